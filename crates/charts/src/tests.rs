use crate::text::text_width;
use crate::*;

const NASTY: &str = "<script>&\"'";

/// A `<text>` element as the browser will see it.
struct Label {
    text: String,
    left: f64,
    right: f64,
    y: f64,
    anchor: String,
}

/// Parse `svg` as XML and check the document-level guarantees; return its text labels with
/// their estimated horizontal extent.
fn check(svg: &str) -> Vec<Label> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("invalid XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("role"), Some("img"));
    assert!(
        !root.attribute("aria-label").unwrap_or("").is_empty() || svg.contains("<title></title>")
    );
    assert_eq!(root.attribute("width"), Some("100%"));
    let vb: Vec<f64> = root
        .attribute("viewBox")
        .expect("viewBox")
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(vb[..2], [0.0, 0.0]);
    let (w, h) = (vb[2], vb[3]);
    let first = root.children().find(|n| n.is_element()).unwrap();
    assert_eq!(
        first.tag_name().name(),
        "title",
        "<title> must be the first child"
    );
    assert_eq!(
        first.text().unwrap_or(""),
        root.attribute("aria-label").unwrap()
    );

    // Nothing external or active.
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        assert!(
            !matches!(
                name,
                "script" | "image" | "use" | "foreignObject" | "a" | "style"
            ),
            "{name}"
        );
        for a in n.attributes() {
            assert!(!a.name().starts_with("on"), "event handler {}", a.name());
            assert!(!a.name().contains("href"), "reference {}", a.name());
            assert!(!a.value().contains("url("), "url() in {}", a.name());
        }
    }

    let mut labels = Vec::new();
    for t in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let text = t.text().unwrap_or("").trim().to_string();
        let x: f64 = t.attribute("x").unwrap().parse().unwrap();
        let y: f64 = t.attribute("y").unwrap().parse().unwrap();
        let px: f64 = t.attribute("font-size").unwrap().parse().unwrap();
        let tw = text_width(&text, px);
        let (left, right) = match t.attribute("text-anchor") {
            Some("end") => (x - tw, x),
            Some("middle") => (x - tw / 2.0, x + tw / 2.0),
            _ => (x, x + tw),
        };
        assert!(
            left >= 0.0 && right <= w,
            "{text:?} spans {left}..{right}, viewBox width {w}"
        );
        assert!(
            (0.0..=h).contains(&y),
            "{text:?} at y={y}, viewBox height {h}"
        );
        labels.push(Label {
            anchor: t.attribute("text-anchor").unwrap_or("start").to_string(),
            text,
            left,
            right,
            y,
        });
    }
    labels
}

fn texts(svg: &str) -> Vec<String> {
    check(svg).into_iter().map(|l| l.text).collect()
}

fn bars(items: &[(&str, f64)]) -> Vec<Bar> {
    items
        .iter()
        .map(|&(l, v)| Bar {
            label: l.into(),
            value: v,
        })
        .collect()
}

fn sample_bars() -> Vec<Bar> {
    bars(&[
        ("重庆大学", 96.4),
        ("四川大学", 95.1),
        ("重庆工程职业技术学院", 91.26),
    ])
}

#[test]
fn bar_chart_is_valid_and_accessible() {
    let b = sample_bars();
    let svg = bar_chart(&BarChart {
        title: "就业率",
        unit: "%",
        bars: &b,
        max: Some(100.0),
    });
    let t = texts(&svg);
    for want in [
        "就业率",
        "重庆大学",
        "四川大学",
        "96.4%",
        "95.1%",
        "91.3%",
        "100%",
        "0%",
    ] {
        assert!(t.iter().any(|x| x == want), "missing {want}: {t:?}");
    }
    assert!(svg.contains("<desc>重庆大学：96.4%"));
    assert!(svg.contains(FONT_FAMILY));
    assert_eq!(
        svg.matches("<rect").count(),
        1 + 3,
        "background + one rect per bar"
    );
}

#[test]
fn bars_are_proportional_and_in_order() {
    let b = bars(&[("甲", 100.0), ("乙", 50.0)]);
    let svg = bar_chart(&BarChart {
        title: "t",
        unit: "人",
        bars: &b,
        max: None,
    });
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let rects: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .skip(1)
        .map(|n| {
            (
                n.attribute("width").unwrap().parse().unwrap(),
                n.attribute("y").unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(rects.len(), 2);
    assert!((rects[0].0 / rects[1].0 - 2.0).abs() < 0.05, "{rects:?}");
    assert!(rects[0].1 < rects[1].1, "first bar on top");
}

#[test]
fn all_text_is_escaped() {
    let b = bars(&[(NASTY, 12.0), ("正常", 3.0)]);
    let svg = bar_chart(&BarChart {
        title: NASTY,
        unit: NASTY,
        bars: &b,
        max: None,
    });
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;&amp;&quot;&apos;"));
    let t = texts(&svg);
    assert!(t.iter().any(|x| x == NASTY), "{t:?}");

    let s = [Stack {
        label: NASTY.into(),
        parts: vec![1.0, 2.0],
    }];
    let svg = stacked_bar_chart(NASTY, &[NASTY, "升学"], &s);
    assert!(!svg.contains("<script"));
    assert!(
        texts(&svg).iter().filter(|x| *x == NASTY).count() >= 3,
        "title, legend, label"
    );

    let f = [Flow {
        from: NASTY.into(),
        to: "重庆".into(),
        value: 5.0,
    }];
    let svg = flow_chart(NASTY, &f);
    assert!(!svg.contains("<script"));
    check(&svg);
}

#[test]
fn control_characters_do_not_break_xml() {
    let b = bars(&[("a\u{0}b\u{1b}c\u{FFFF}", 1.0)]);
    check(&bar_chart(&BarChart {
        title: "x\u{7}",
        unit: "\u{8}",
        bars: &b,
        max: None,
    }));
}

#[test]
fn empty_input_says_no_data() {
    let empty = |svg: String| {
        let t = texts(&svg);
        assert!(t.iter().any(|x| x == "暂无数据"), "{t:?}");
        assert!(svg.contains("<desc>暂无数据</desc>"));
    };
    empty(bar_chart(&BarChart {
        title: "就业率",
        unit: "%",
        bars: &[],
        max: None,
    }));
    let zero = bars(&[("甲", 0.0), ("乙", 0.0)]);
    empty(bar_chart(&BarChart {
        title: "就业率",
        unit: "%",
        bars: &zero,
        max: Some(100.0),
    }));
    let bad = bars(&[("甲", f64::NAN), ("乙", -3.0), ("丙", f64::NEG_INFINITY)]);
    empty(bar_chart(&BarChart {
        title: "",
        unit: "",
        bars: &bad,
        max: Some(f64::NAN),
    }));
    empty(stacked_bar_chart("去向", &["就业"], &[]));
    empty(stacked_percent_chart(
        "去向",
        &[],
        &[Stack {
            label: "甲".into(),
            parts: vec![],
        }],
    ));
    empty(stacked_percent_chart(
        "去向",
        &["就业"],
        &[Stack {
            label: "甲".into(),
            parts: vec![0.0, f64::NAN],
        }],
    ));
    empty(flow_chart("流向", &[]));
    empty(flow_chart(
        "流向",
        &[Flow {
            from: "四川".into(),
            to: "重庆".into(),
            value: -1.0,
        }],
    ));
}

#[test]
fn nasty_values_do_not_panic() {
    let values = [
        f64::NAN,
        f64::INFINITY,
        -5.0,
        1e308,
        f64::MAX,
        f64::MIN_POSITIVE,
        1e-300,
        0.0,
        -0.0,
        42.0,
    ];
    let b: Vec<Bar> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| Bar {
            label: format!("项{i}"),
            value: v,
        })
        .collect();
    for max in [
        None,
        Some(100.0),
        Some(f64::INFINITY),
        Some(-1.0),
        Some(0.0),
    ] {
        check(&bar_chart(&BarChart {
            title: "t",
            unit: "%",
            bars: &b,
            max,
        }));
    }
    for v in values {
        let one = [Bar {
            label: "x".into(),
            value: v,
        }];
        check(&bar_chart(&BarChart {
            title: "t",
            unit: "人",
            bars: &one,
            max: None,
        }));
        let s = [Stack {
            label: "x".into(),
            parts: vec![v, 1.0, v],
        }];
        check(&stacked_bar_chart("t", &["a", "b", "c"], &s));
        check(&stacked_percent_chart("t", &["a", "b", "c"], &s));
        let f = [
            Flow {
                from: "a".into(),
                to: "b".into(),
                value: v,
            },
            Flow {
                from: "a".into(),
                to: "c".into(),
                value: 1.0,
            },
        ];
        check(&flow_chart("t", &f));
    }
    let s = [Stack {
        label: "x".into(),
        parts: vec![f64::MAX, f64::MAX],
    }];
    check(&stacked_bar_chart("t", &["a", "b"], &s));
    let f = [
        Flow {
            from: "a".into(),
            to: "b".into(),
            value: f64::MAX,
        },
        Flow {
            from: "a".into(),
            to: "b".into(),
            value: f64::MAX,
        },
        Flow {
            from: "c".into(),
            to: "b".into(),
            value: 1e-300,
        },
    ];
    check(&flow_chart("t", &f));
}

#[test]
fn long_chinese_labels_stay_inside_the_viewbox() {
    let long = "重庆市渝北区某某职业技术学院继续教育学院成人高等学历教育函授站点（两江新区分部）";
    assert!(long.chars().count() >= 40);
    let b = bars(&[(long, 88.8), ("短", 10.0)]);
    let svg = bar_chart(&BarChart {
        title: &long.repeat(3),
        unit: "%",
        bars: &b,
        max: Some(100.0),
    });
    let labels = check(&svg);
    assert!(labels.iter().any(|l| l.text == "88.8%"));
    assert!(
        labels.iter().any(|l| l.text.ends_with('…')),
        "long label is shortened"
    );
    // The wrapped label lines (below the two title lines) must end left of the axis start.
    let zero = labels.iter().find(|l| l.text == "0%").unwrap();
    let axis_x = (zero.left + zero.right) / 2.0;
    let label_lines: Vec<&Label> = labels
        .iter()
        .filter(|l| l.y > 60.0 && !l.text.is_empty() && long.contains(l.text.trim_end_matches('…')))
        .collect();
    assert_eq!(label_lines.len(), 2, "wrapped onto two lines");
    for l in label_lines {
        assert!(l.right <= axis_x, "{} overlaps the plot", l.text);
    }

    let s = [Stack {
        label: long.into(),
        parts: vec![1.0, 2.0, 3.0],
    }];
    let names = [
        long,
        "升学",
        "参军",
        "自主创业",
        "待就业",
        "其他一",
        "其他二",
        "其他三",
        "其他四",
        "其他五",
    ];
    check(&stacked_bar_chart(long, &names, &s));
    check(&stacked_percent_chart(long, &names, &s));

    let f = [
        Flow {
            from: long.into(),
            to: long.into(),
            value: 10.0,
        },
        Flow {
            from: "四川".into(),
            to: long.into(),
            value: 3.0,
        },
    ];
    check(&flow_chart(long, &f));
}

#[test]
fn stacked_values_and_legend_appear() {
    let names = ["就业", "升学", "参军", "自主创业", "待就业"];
    let s = [
        Stack {
            label: "重庆大学".into(),
            parts: vec![3120.0, 2410.0, 35.0, 60.0, 210.0],
        },
        Stack {
            label: "四川大学".into(),
            parts: vec![4100.0, 3650.0],
        },
    ];
    let t = texts(&stacked_bar_chart("毕业去向", &names, &s));
    for want in [
        "就业",
        "待就业",
        "3,120",
        "2,410",
        "5,835",
        "7,750",
        "重庆大学",
    ] {
        assert!(t.iter().any(|x| x == want), "missing {want}: {t:?}");
    }
    let svg = stacked_percent_chart("毕业去向", &names, &s);
    let t = texts(&svg);
    for want in ["53.5%", "52.9%", "共5,835", "100%"] {
        assert!(t.iter().any(|x| x == want), "missing {want}: {t:?}");
    }
    // Series colours are consistent: 就业 is always the first palette colour.
    let blue = "#0072B2";
    assert!(svg.contains(&format!("fill=\"{blue}\"")));
    // More parts than names get generated names.
    let t = texts(&stacked_bar_chart(
        "t",
        &["就业"],
        &[Stack {
            label: "甲".into(),
            parts: vec![1.0, 2.0],
        }],
    ));
    assert!(t.iter().any(|x| x == "第2项"), "{t:?}");
}

#[test]
fn flow_values_appear_and_duplicates_are_summed() {
    let f = [
        Flow {
            from: "四川".into(),
            to: "重庆".into(),
            value: 600.0,
        },
        Flow {
            from: "四川".into(),
            to: "重庆".into(),
            value: 400.0,
        },
        Flow {
            from: "四川".into(),
            to: "四川".into(),
            value: 3000.0,
        },
        Flow {
            from: "重庆".into(),
            to: "四川".into(),
            value: 500.0,
        },
    ];
    let svg = flow_chart("就读地 → 就业地", &f);
    let labels = check(&svg);
    let t: Vec<&str> = labels.iter().map(|l| l.text.as_str()).collect();
    for want in [
        "四川 4,000",
        "重庆 500",
        "四川 3,500",
        "重庆 1,000",
        "→四川 3,000",
    ] {
        assert!(t.contains(&want), "missing {want}: {t:?}");
    }
    assert!(svg.contains("四川 → 重庆：1,000"));
    assert_eq!(svg.matches("<polygon").count(), 3);
    // Labels in one column never overlap vertically.
    let mut right: Vec<f64> = labels
        .iter()
        .filter(|l| l.left > 320.0)
        .map(|l| l.y)
        .collect();
    right.sort_by(f64::total_cmp);
    assert!(right.windows(2).all(|w| w[1] - w[0] >= 14.0), "{right:?}");
}

#[test]
fn many_rows_and_nodes() {
    let b: Vec<Bar> = (0..200)
        .map(|i| Bar {
            label: format!("院校{i}"),
            value: i as f64,
        })
        .collect();
    check(&bar_chart(&BarChart {
        title: "t",
        unit: "人",
        bars: &b,
        max: None,
    }));
    let f: Vec<Flow> = (0..40)
        .map(|i| Flow {
            from: format!("省{}", i % 34),
            to: format!("市{}", i % 7),
            value: 1.0 + i as f64,
        })
        .collect();
    let labels = check(&flow_chart("t", &f));
    let mut left: Vec<f64> = labels
        .iter()
        .filter(|l| l.anchor == "end")
        .map(|l| l.y)
        .collect();
    left.sort_by(f64::total_cmp);
    assert!(left.windows(2).all(|w| w[1] - w[0] >= 14.0));
}
