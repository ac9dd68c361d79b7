//! Shared drawing plumbing: plotters SVG backend into a `String`, document header with
//! accessibility metadata, palette, fonts, title and "no data" rendering.

use std::error::Error;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::text::{escape, text_width, wrap};

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type DrawResult = Result<(), Box<dyn Error>>;

/// CSS font-family list; the browser picks the first installed CJK-capable face.
pub const FONT_FAMILY: &str = "PingFang SC, Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Zen Hei, Microsoft YaHei, sans-serif";

/// Logical width (viewBox units) of every chart. The SVG scales to its container.
pub(crate) const WIDTH: u32 = 640;
pub(crate) const PAD: f64 = 16.0;
pub(crate) const TITLE_PX: f64 = 17.0;
pub(crate) const LABEL_PX: f64 = 14.0;
pub(crate) const VALUE_PX: f64 = 13.0;
pub(crate) const TICK_PX: f64 = 12.0;

/// Okabe–Ito palette (colour-blind safe), ordered so that neighbours contrast well.
/// Series `i` always gets `PALETTE[i % 8]`.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x59, 0x59, 0x59), // dark grey (stands in for Okabe–Ito black)
];

pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
pub(crate) const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);

pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Black or white, whichever reads better on `bg`.
pub(crate) fn text_on(bg: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = bg;
    let luma = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    if luma > 150.0 {
        RGBColor(0, 0, 0)
    } else {
        RGBColor(0xFF, 0xFF, 0xFF)
    }
}

/// Text style of `px` CSS pixels. plotters' SVG backend writes `font-size = size / 1.24`, so the
/// size is scaled up here to get exactly `px` in the output.
pub(crate) fn style(px: f64, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    text_style(px, colour, h, v, FontStyle::Normal)
}

pub(crate) fn bold(px: f64, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    text_style(px, colour, h, v, FontStyle::Bold)
}

fn text_style(
    px: f64,
    colour: RGBColor,
    h: HPos,
    v: VPos,
    weight: FontStyle,
) -> TextStyle<'static> {
    TextStyle {
        font: FontDesc::new(FontFamily::Name(FONT_FAMILY), px * 1.24, weight),
        color: colour.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

pub(crate) fn line_height(px: f64) -> f64 {
    (px * 1.3).ceil()
}

/// Wrapped title lines (bold text is a little wider, hence the margin).
pub(crate) fn title_lines(title: &str) -> Vec<String> {
    if crate::text::clean(title).is_empty() {
        return Vec::new();
    }
    wrap(title, TITLE_PX * 1.05, f64::from(WIDTH) - 2.0 * PAD, 2)
}

/// Height taken by the title block including the gap below it.
pub(crate) fn title_height(lines: &[String]) -> f64 {
    PAD + lines.len() as f64 * line_height(TITLE_PX) + 10.0
}

pub(crate) fn draw_title(root: &Area, lines: &[String]) -> DrawResult {
    let st = bold(TITLE_PX, INK, HPos::Left, VPos::Top);
    for (i, line) in lines.iter().enumerate() {
        let y = PAD + i as f64 * line_height(TITLE_PX);
        root.draw(&Text::new(
            line.as_str(),
            (PAD as i32, y as i32),
            st.clone(),
        ))?;
    }
    Ok(())
}

/// Draw a multi-line label right-aligned at `x_right`, vertically centred on `y_mid`.
pub(crate) fn draw_lines_right(
    root: &Area,
    lines: &[String],
    x_right: f64,
    y_mid: f64,
    st: &TextStyle,
    px: f64,
) -> DrawResult {
    let lh = line_height(px);
    let top = y_mid - lh * (lines.len() as f64 - 1.0) / 2.0;
    for (i, line) in lines.iter().enumerate() {
        let y = top + i as f64 * lh;
        root.draw(&Text::new(
            line.as_str(),
            (x_right as i32, y.round() as i32),
            st.clone(),
        ))?;
    }
    Ok(())
}

/// Draw a legend of coloured swatches with names starting at `y`, wrapping rows within the
/// chart width. Returns the height used. With `draw == false` only measures.
pub(crate) fn legend(root: Option<&Area>, names: &[String], y: f64) -> Result<f64, Box<dyn Error>> {
    let sw = 12.0;
    let gap = 18.0;
    let max_name = 200.0;
    let right = f64::from(WIDTH) - PAD;
    let lh = line_height(LABEL_PX) + 4.0;
    let mut x = PAD;
    let mut row = 0.0;
    for (i, name) in names.iter().enumerate() {
        let name = wrap(name, LABEL_PX, max_name, 1).remove(0);
        let w = sw + 6.0 + text_width(&name, LABEL_PX);
        if x > PAD && x + w > right {
            x = PAD;
            row += 1.0;
        }
        let cy = y + row * lh + lh / 2.0;
        if let Some(root) = root {
            let c = colour(i);
            root.draw(&Rectangle::new(
                [
                    (x as i32, (cy - sw / 2.0) as i32),
                    ((x + sw) as i32, (cy + sw / 2.0) as i32),
                ],
                c.filled(),
            ))?;
            root.draw(&Text::new(
                name.clone(),
                ((x + sw + 6.0) as i32, cy as i32),
                style(LABEL_PX, INK, HPos::Left, VPos::Center),
            ))?;
        }
        x += w + gap;
    }
    Ok((row + 1.0) * lh)
}

/// Render with plotters into a string, then replace plotters' `<svg>` opening tag with one that
/// scales (`viewBox`, `width="100%"`) and carries `role="img"`, `aria-label`, `<title>` and a
/// `<desc>` with the full, untruncated data for screen readers.
pub(crate) fn render(
    title: &str,
    desc: &str,
    height: f64,
    draw: impl FnOnce(&Area) -> DrawResult,
) -> String {
    let height = height.clamp(100.0, 1_000_000.0).ceil() as u32;
    let mut buf = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(Into::into)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Into::into))
    };
    match result {
        Ok(()) => finish(&buf, title, desc, height),
        Err(_) if desc != FAILED => no_data(title, FAILED),
        // Drawing the fallback itself failed: hand-write the minimal document.
        Err(_) => finish("<svg>\n</svg>\n", title, desc, height),
    }
}

pub(crate) const NO_DATA: &str = "暂无数据";
const FAILED: &str = "图表生成失败";

fn finish(plotters_svg: &str, title: &str, desc: &str, height: u32) -> String {
    let body = plotters_svg
        .split_once('\n')
        .map(|(_, rest)| rest)
        .unwrap_or("</svg>\n");
    // An empty accessible name is worse than a generic one.
    let title = match escape(title) {
        t if t.is_empty() => "图表".to_string(),
        t => t,
    };
    let mut out = String::with_capacity(body.len() + 512);
    out.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" preserveAspectRatio=\"xMidYMin meet\" \
         style=\"max-width:{WIDTH}px;height:auto;display:block\" \
         role=\"img\" aria-label=\"{title}\">\n<title>{title}</title>\n<desc>{}</desc>\n",
        escape(desc)
    ));
    out.push_str(body);
    out
}

/// A valid chart saying `message` (暂无数据) under the title.
pub(crate) fn no_data(title: &str, message: &str) -> String {
    let lines = title_lines(title);
    let top = title_height(&lines);
    let h = top + 80.0;
    render(title, message, h, |root| {
        draw_title(root, &lines)?;
        root.draw(&Text::new(
            message.to_string(),
            ((f64::from(WIDTH) / 2.0) as i32, (top + 30.0) as i32),
            style(LABEL_PX + 2.0, MUTED, HPos::Center, VPos::Center),
        ))?;
        Ok(())
    })
}

/// Largest value we draw; keeps axis maths finite for absurd inputs.
pub(crate) const MAX_DRAWN: f64 = 1e300;

/// A finite, non-negative value suitable for bar lengths (NaN/negative → 0, huge → clamped).
pub(crate) fn drawable(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v.min(MAX_DRAWN)
    } else {
        0.0
    }
}

/// Round up to a round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ) for the axis end.
pub(crate) fn nice_ceil(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let e = 10f64.powf(v.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * e >= v * (1.0 - 1e-12) {
            return m * e;
        }
    }
    10.0 * e
}

/// The plot of a horizontal chart: `n` category slots down, `0..axis_max` across, placed at
/// `x` (left, right) from `top` with `plot_h` for the bars and `axis_h` below for the value
/// axis, which is drawn with its grid and ticks (`unit` after each tick).
#[allow(clippy::too_many_arguments)]
pub(crate) fn horizontal_plot<'a>(
    root: &Area<'a>,
    x: (f64, f64),
    top: f64,
    plot_h: f64,
    axis_h: f64,
    axis_max: f64,
    n: usize,
    unit: &str,
) -> Result<
    ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    Box<dyn Error>,
> {
    let area = root.clone().shrink(
        (x.0 as i32, top as i32),
        ((x.1 - x.0) as u32, (plot_h + axis_h) as u32),
    );
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(axis_h as u32)
        .build_cartesian_2d(0.0..axis_max, 0.0..n as f64)?;
    let tick_fmt = |v: &f64| format!("{}{unit}", crate::text::fmt_num(*v));
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_labels(6)
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(GRID)
        .x_label_formatter(&tick_fmt)
        .label_style(style(TICK_PX, MUTED, HPos::Center, VPos::Top))
        .draw()?;
    Ok(chart)
}
