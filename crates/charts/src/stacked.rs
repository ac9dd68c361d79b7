//! Horizontal stacked bar chart (absolute or 100 %), with a legend.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::canvas::{
    self, INK, LABEL_PX, NO_DATA, PAD, TICK_PX, VALUE_PX, WIDTH, colour, drawable, nice_ceil,
    style, text_on,
};
use crate::text::{clean, fmt_num, text_width, wrap};

/// One stacked bar: a category label and one value per series (missing parts count as 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub label: String,
    pub parts: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Absolute,
    Percent,
}

/// Stacked bars in absolute numbers; the total is printed at the bar end and each part inside
/// its segment when it fits. Series `i` always has colour [`crate::PALETTE`]`[i % 8]`.
pub fn stacked_bar_chart(title: &str, series_names: &[&str], stacks: &[Stack]) -> String {
    stacked(title, series_names, stacks, Mode::Absolute)
}

/// 100 % stacked bars: each bar shows the shares of its parts (printed inside the segments when
/// they fit), the bar's absolute total is printed at the end as "共 N".
pub fn stacked_percent_chart(title: &str, series_names: &[&str], stacks: &[Stack]) -> String {
    stacked(title, series_names, stacks, Mode::Percent)
}

fn stacked(title: &str, series_names: &[&str], stacks: &[Stack], mode: Mode) -> String {
    // NaN / negative parts cannot be stacked: they count as 0 (and are listed as such in <desc>).
    let k = stacks
        .iter()
        .map(|s| s.parts.len())
        .max()
        .unwrap_or(0)
        .max(series_names.len());
    let parts: Vec<Vec<f64>> = stacks
        .iter()
        .map(|s| {
            (0..k)
                .map(|j| drawable(s.parts.get(j).copied().unwrap_or(0.0)))
                .collect()
        })
        .collect();
    let totals: Vec<f64> = parts
        .iter()
        .map(|p| p.iter().sum::<f64>().min(canvas::MAX_DRAWN))
        .collect();
    let max_total = totals.iter().copied().fold(0.0, f64::max);
    if max_total <= 0.0 {
        return canvas::no_data(title, NO_DATA);
    }
    let names: Vec<String> = (0..k)
        .map(|j| match series_names.get(j) {
            Some(n) => clean(n),
            None => format!("第{}项", j + 1),
        })
        .collect();
    let axis_max = match mode {
        Mode::Absolute => nice_ceil(max_total),
        Mode::Percent => 100.0,
    };
    let tick_unit = if mode == Mode::Percent { "%" } else { "" };

    let title_lines = canvas::title_lines(title);
    let legend_top = canvas::title_height(&title_lines);
    let legend_h = canvas::legend(None, &names, legend_top).unwrap_or(0.0);
    let top = legend_top + legend_h + 8.0;

    let max_label_w = f64::from(WIDTH) * 0.32;
    let labels: Vec<Vec<String>> = stacks
        .iter()
        .map(|s| wrap(&s.label, LABEL_PX, max_label_w, 2))
        .collect();
    let label_w = labels
        .iter()
        .flatten()
        .map(|l| text_width(l, LABEL_PX))
        .fold(24.0, f64::max);
    let row_h = if labels.iter().any(|l| l.len() > 1) {
        44.0
    } else {
        34.0
    };

    let end_text: Vec<String> = totals
        .iter()
        .map(|&t| match mode {
            Mode::Absolute => fmt_num(t),
            Mode::Percent if t > 0.0 => format!("共{}", fmt_num(t)),
            Mode::Percent => "—".to_string(),
        })
        .collect();
    let end_w = end_text
        .iter()
        .map(|t| text_width(t, VALUE_PX))
        .fold(0.0, f64::max)
        .max(text_width(&format!("{}{tick_unit}", fmt_num(axis_max)), TICK_PX) / 2.0)
        + 10.0;

    let n = stacks.len();
    let x0 = PAD + label_w + 10.0;
    let x1 = f64::from(WIDTH) - PAD - end_w;
    let axis_h = 24.0;
    let plot_h = n as f64 * row_h;
    let height = top + plot_h + axis_h + PAD;

    let desc = stacks
        .iter()
        .zip(&totals)
        .zip(&parts)
        .map(|((s, &t), p)| {
            let items = names
                .iter()
                .zip(p)
                .map(|(name, &v)| match mode {
                    Mode::Absolute => format!("{name} {}", fmt_num(v)),
                    Mode::Percent => format!("{name} {}%", fmt_num(share(v, t))),
                })
                .collect::<Vec<_>>()
                .join("，");
            format!("{}（合计 {}）：{items}", clean(&s.label), fmt_num(t))
        })
        .collect::<Vec<_>>()
        .join("；");

    canvas::render(title, &desc, height, |root| {
        canvas::draw_title(root, &title_lines)?;
        canvas::legend(Some(root), &names, legend_top)?;
        let mut chart =
            canvas::horizontal_plot(root, (x0, x1), top, plot_h, axis_h, axis_max, n, tick_unit)?;

        for (i, (p, &total)) in parts.iter().zip(&totals).enumerate() {
            let slot = (n - i - 1) as f64;
            let mut start = 0.0;
            for (j, &v) in p.iter().enumerate() {
                let len = match mode {
                    Mode::Absolute => v,
                    Mode::Percent => share(v, total),
                };
                if len <= 0.0 {
                    continue;
                }
                let end = (start + len).min(axis_max);
                let c = colour(j);
                chart.draw_series([
                    Rectangle::new([(start, slot + 0.18), (end, slot + 0.82)], c.filled()),
                    // Thin white separator between segments.
                    Rectangle::new(
                        [(start, slot + 0.18), (end, slot + 0.82)],
                        WHITE.stroke_width(1),
                    ),
                ])?;
                let label = match mode {
                    Mode::Absolute => fmt_num(v),
                    Mode::Percent => format!("{}%", fmt_num(len)),
                };
                let (sx, sy) = chart.backend_coord(&(start, slot + 0.5));
                let (ex, _) = chart.backend_coord(&(end, slot + 0.5));
                if text_width(&label, VALUE_PX) + 6.0 <= f64::from(ex - sx) {
                    root.draw(&Text::new(
                        label,
                        ((sx + ex) / 2, sy),
                        style(VALUE_PX, text_on(c), HPos::Center, VPos::Center),
                    ))?;
                }
                start = end;
            }
            let end = match mode {
                Mode::Absolute => total.min(axis_max),
                Mode::Percent if total > 0.0 => 100.0,
                Mode::Percent => 0.0,
            };
            let (bx, by) = chart.backend_coord(&(end, slot + 0.5));
            root.draw(&Text::new(
                end_text[i].as_str(),
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

fn share(v: f64, total: f64) -> f64 {
    if total > 0.0 { v / total * 100.0 } else { 0.0 }
}
