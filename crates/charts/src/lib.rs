//! Server-side SVG charts for statistics pages (就业统计, regional education reports).
//!
//! Plain data in, a self-contained `<svg>` string out, safe to embed inline in HTML:
//! every piece of text is XML-escaped, there are no external references or scripts, the root has
//! a `viewBox` and `width="100%"` so it scales down to a phone, and it carries `role="img"`,
//! `aria-label`, `<title>` and a `<desc>` listing the full data.
//!
//! Drawing is done by `plotters` with only its SVG backend. Without the `ttf` feature plotters
//! needs no font file: the SVG backend emits `<text>` with `text-anchor` and the browser lays
//! out the glyphs with the CJK font list in [`FONT_FAMILY`]. Label wrapping and column widths use
//! our own conservative width estimate (CJK = 1 em) instead of font metrics.

mod bar;
mod canvas;
mod flow;
mod stacked;
mod text;

#[cfg(test)]
mod tests;

pub use bar::{Bar, BarChart, bar_chart};
pub use canvas::{FONT_FAMILY, PALETTE};
pub use flow::{Flow, flow_chart};
pub use stacked::{Stack, stacked_bar_chart, stacked_percent_chart};
