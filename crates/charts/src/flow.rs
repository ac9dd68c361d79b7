//! Two-column flow diagram: sources on the left, destinations on the right, one straight band
//! per flow whose thickness is proportional to its value (a simple alluvial / parallel-sets
//! layout drawn with plotters polygons).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::canvas::{
    self, INK, LABEL_PX, MUTED, NO_DATA, PAD, VALUE_PX, WIDTH, colour, drawable, line_height, style,
};
use crate::text::{clean, fmt_num, text_width, wrap};

/// A flow of `value` (people) from one place to another, e.g. studied in 四川 → works in 重庆.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub value: f64,
}

struct Node {
    name: String,
    total: f64,
    /// Top of the node in pixels, set during layout.
    y: f64,
}

/// Render flows between places as a two-column band diagram. Duplicate (from, to) pairs are
/// summed; NaN, negative and zero flows are left out. No drawable flow gives a 暂无数据 chart.
pub fn flow_chart(title: &str, flows: &[Flow]) -> String {
    // Aggregate, keeping first-appearance order for ties.
    let mut agg: Vec<(String, String, f64)> = Vec::new();
    for f in flows {
        let v = drawable(f.value);
        if v <= 0.0 {
            continue;
        }
        let (from, to) = (clean(&f.from), clean(&f.to));
        match agg.iter_mut().find(|(a, b, _)| *a == from && *b == to) {
            Some(e) => e.2 = (e.2 + v).min(canvas::MAX_DRAWN),
            None => agg.push((from, to, v)),
        }
    }
    if agg.is_empty() {
        return canvas::no_data(title, NO_DATA);
    }
    let mut left = nodes(agg.iter().map(|(f, _, v)| (f, *v)));
    let mut right = nodes(agg.iter().map(|(_, t, v)| (t, *v)));
    let li = |name: &str, ns: &[Node]| ns.iter().position(|n| n.name == name).unwrap_or(0);
    // Flow indices in band order at each end: by the opposite node's order (fewer crossings).
    let mut flow_ix: Vec<(usize, usize, f64)> = agg
        .iter()
        .map(|(f, t, v)| (li(f, &left), li(t, &right), *v))
        .collect();
    flow_ix.sort_by_key(|&(l, r, _)| (l, r));

    let title_lines = canvas::title_lines(title);
    let top = canvas::title_height(&title_lines) + 4.0;

    let node_label = |n: &Node| {
        let name = wrap(&n.name, LABEL_PX, 100.0, 1).remove(0);
        format!("{name} {}", fmt_num(n.total))
    };
    let col_w = |ns: &[Node]| {
        ns.iter()
            .map(|n| text_width(&node_label(n), LABEL_PX))
            .fold(24.0, f64::max)
    };
    let (lw, rw) = (col_w(&left), col_w(&right));
    let node_w = 12.0;
    let xl0 = PAD + lw + 8.0;
    let xl1 = xl0 + node_w;
    let xr1 = f64::from(WIDTH) - PAD - rw - 8.0;
    let xr0 = xr1 - node_w;

    let gap = 10.0;
    let most = left.len().max(right.len()) as f64;
    let plot_h = (34.0 * most).max(220.0);
    let total: f64 = left
        .iter()
        .map(|n| n.total)
        .sum::<f64>()
        .min(canvas::MAX_DRAWN);
    let scale = (plot_h - gap * (most - 1.0)) / total;
    let mut bottom = top;
    for col in [&mut left, &mut right] {
        let used =
            col.iter().map(|n| n.total * scale).sum::<f64>() + gap * (col.len() as f64 - 1.0);
        let mut y = top + (plot_h - used).max(0.0) / 2.0;
        for n in col.iter_mut() {
            n.y = y;
            y += n.total * scale + gap;
        }
        bottom = bottom.max(y - gap);
    }
    // Label positions: node centres, pushed down so that labels never overlap.
    let label_ys = |col: &[Node]| {
        let lh = line_height(LABEL_PX) + 2.0;
        let mut prev = f64::NEG_INFINITY;
        col.iter()
            .map(|n| {
                let y = (n.y + n.total * scale / 2.0).max(prev + lh);
                prev = y;
                y
            })
            .collect::<Vec<f64>>()
    };
    let (lly, rly) = (label_ys(&left), label_ys(&right));
    let last_label = lly.iter().chain(&rly).copied().fold(bottom, f64::max);
    let height = last_label.max(bottom) + line_height(LABEL_PX) + PAD;

    let desc = agg
        .iter()
        .map(|(f, t, v)| format!("{f} → {t}：{}", fmt_num(*v)))
        .collect::<Vec<_>>()
        .join("；");

    canvas::render(title, &desc, height, |root| {
        canvas::draw_title(root, &title_lines)?;
        // Bands first so that nodes and labels sit on top.
        let mut l_off = vec![0.0; left.len()];
        let mut r_off = vec![0.0; right.len()];
        let mut by_right = flow_ix.clone();
        by_right.sort_by_key(|&(l, r, _)| (r, l));
        let mut r_start = vec![0.0; flow_ix.len()];
        for &(l, r, v) in &by_right {
            let k = flow_ix
                .iter()
                .position(|&(a, b, _)| a == l && b == r)
                .unwrap_or(0);
            r_start[k] = right[r].y + r_off[r];
            r_off[r] += v * scale;
        }
        let mut labels = Vec::new();
        for (k, &(l, r, v)) in flow_ix.iter().enumerate() {
            let h = (v * scale).max(1.0);
            let yl = left[l].y + l_off[l];
            l_off[l] += v * scale;
            let yr = r_start[k];
            let px = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
            root.draw(&Polygon::new(
                vec![px(xl1, yl), px(xr0, yr), px(xr0, yr + h), px(xl1, yl + h)],
                colour(l).mix(0.45).filled(),
            ))?;
            if h >= 16.0 {
                let to = wrap(&right[r].name, VALUE_PX, 90.0, 1).remove(0);
                labels.push((format!("→{to} {}", fmt_num(v)), px(xl1 + 6.0, yl + h / 2.0)));
            }
        }
        for (text, pos) in labels {
            root.draw(&Text::new(
                text,
                pos,
                style(VALUE_PX, INK, HPos::Left, VPos::Center),
            ))?;
        }
        let node = |x0: f64, x1: f64, n: &Node, c: RGBColor| {
            let y1 = n.y + (n.total * scale).max(2.0);
            Rectangle::new(
                [
                    (x0 as i32, n.y.round() as i32),
                    (x1 as i32, y1.round() as i32),
                ],
                c.filled(),
            )
        };
        for (i, n) in left.iter().enumerate() {
            root.draw(&node(xl0, xl1, n, colour(i)))?;
            root.draw(&Text::new(
                node_label(n),
                ((xl0 - 6.0) as i32, lly[i].round() as i32),
                style(LABEL_PX, INK, HPos::Right, VPos::Center),
            ))?;
        }
        for (i, n) in right.iter().enumerate() {
            root.draw(&node(xr0, xr1, n, MUTED))?;
            root.draw(&Text::new(
                node_label(n),
                ((xr1 + 6.0) as i32, rly[i].round() as i32),
                style(LABEL_PX, INK, HPos::Left, VPos::Center),
            ))?;
        }
        Ok(())
    })
}

/// Distinct names with their totals, largest first (stable for ties).
fn nodes<'a>(items: impl Iterator<Item = (&'a String, f64)>) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::new();
    for (name, v) in items {
        match out.iter_mut().find(|n| &n.name == name) {
            Some(n) => n.total = (n.total + v).min(canvas::MAX_DRAWN),
            None => out.push(Node {
                name: name.clone(),
                total: v,
                y: 0.0,
            }),
        }
    }
    out.sort_by(|a, b| b.total.total_cmp(&a.total));
    out
}
