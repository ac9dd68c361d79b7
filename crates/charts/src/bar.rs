//! Horizontal bar chart.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::canvas::{
    self, INK, LABEL_PX, NO_DATA, PAD, TICK_PX, VALUE_PX, WIDTH, colour, drawable, nice_ceil, style,
};
use crate::text::{clean, fmt_num, text_width, wrap};

/// One bar: a category label and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
}

/// A horizontal bar chart, one bar per category, value printed at the bar end.
#[derive(Debug, Clone, Copy)]
pub struct BarChart<'a> {
    pub title: &'a str,
    /// Appended to printed values and ticks, e.g. `"%"` or `"人"`.
    pub unit: &'a str,
    pub bars: &'a [Bar],
    /// Axis maximum, e.g. `Some(100.0)` for rates; widened if a value exceeds it.
    pub max: Option<f64>,
}

/// Render a horizontal bar chart as a self-contained SVG string.
///
/// NaN/infinite values print as "—" with no bar, negative values print as given with no bar,
/// values above 1e300 are clamped. No bars, or no positive value, gives a 暂无数据 chart.
pub fn bar_chart(c: &BarChart) -> String {
    let unit = clean(c.unit);
    let values: Vec<f64> = c.bars.iter().map(|b| drawable(b.value)).collect();
    let data_max = values.iter().copied().fold(0.0, f64::max);
    if data_max <= 0.0 {
        return canvas::no_data(c.title, NO_DATA);
    }
    let axis_max = match c.max {
        Some(m) if m.is_finite() && m > 0.0 && m >= data_max => m.min(canvas::MAX_DRAWN),
        _ => nice_ceil(data_max),
    };

    let title = canvas::title_lines(c.title);
    let top = canvas::title_height(&title);

    let max_label_w = f64::from(WIDTH) * 0.36;
    let labels: Vec<Vec<String>> = c
        .bars
        .iter()
        .map(|b| wrap(&b.label, LABEL_PX, max_label_w, 2))
        .collect();
    let label_w = labels
        .iter()
        .flatten()
        .map(|l| text_width(l, LABEL_PX))
        .fold(24.0, f64::max);
    let row_h = if labels.iter().any(|l| l.len() > 1) {
        44.0
    } else {
        32.0
    };

    let value_text: Vec<String> = c
        .bars
        .iter()
        .map(|b| wrap(&format!("{}{unit}", fmt_num(b.value)), VALUE_PX, 150.0, 1).remove(0))
        .collect();
    let value_w = value_text
        .iter()
        .map(|t| text_width(t, VALUE_PX))
        .fold(0.0, f64::max)
        .max(text_width(&format!("{}{unit}", fmt_num(axis_max)), TICK_PX) / 2.0)
        + 10.0;

    let n = c.bars.len();
    let x0 = PAD + label_w + 10.0;
    let x1 = f64::from(WIDTH) - PAD - value_w;
    let axis_h = 24.0;
    let plot_h = n as f64 * row_h;
    let height = top + plot_h + axis_h + PAD;

    let desc = c
        .bars
        .iter()
        .map(|b| format!("{}：{}{unit}", clean(&b.label), fmt_num(b.value)))
        .collect::<Vec<_>>()
        .join("；");

    canvas::render(c.title, &desc, height, |root| {
        canvas::draw_title(root, &title)?;
        let mut chart =
            canvas::horizontal_plot(root, (x0, x1), top, plot_h, axis_h, axis_max, n, &unit)?;

        let fill = colour(0);
        for (i, &v) in values.iter().enumerate() {
            let slot = (n - i - 1) as f64;
            let v = v.min(axis_max);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, slot + 0.2), (v, slot + 0.8)],
                fill.filled(),
            )))?;
            let (bx, by) = chart.backend_coord(&(v, slot + 0.5));
            root.draw(&Text::new(
                value_text[i].as_str(),
                (bx + 6, by),
                style(VALUE_PX, INK, HPos::Left, VPos::Center),
            ))?;
            canvas::draw_lines_right(
                root,
                &labels[i],
                x0 - 10.0,
                f64::from(by),
                &style(LABEL_PX, INK, HPos::Right, VPos::Center),
                LABEL_PX,
            )?;
        }
        Ok(())
    })
}
