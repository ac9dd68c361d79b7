//! Writes sample charts to the directory given as the first argument (default /tmp/charts-sample).

use charts::{
    Bar, BarChart, Flow, Stack, bar_chart, flow_chart, stacked_bar_chart, stacked_percent_chart,
};

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/charts-sample".into());
    std::fs::create_dir_all(&dir)?;
    let bar = |label: &str, value: f64| Bar {
        label: label.into(),
        value,
    };
    let bars = [
        bar("重庆大学", 96.4),
        bar("四川大学", 95.1),
        bar("西南大学", 93.75),
        bar("重庆工程职业技术学院", 91.2),
        bar("成都航空职业技术学院", 89.0),
        bar(
            "四川省成都市某某区职业技术教育中心（原某某县职业高级中学）继续教育学院",
            72.5,
        ),
        bar("<script>&\"'", 12.0),
    ];
    let svg = bar_chart(&BarChart {
        title: "2024届毕业生就业率（按院校）",
        unit: "%",
        bars: &bars,
        max: Some(100.0),
    });
    std::fs::write(format!("{dir}/bar.svg"), svg)?;

    let names = ["就业", "升学", "参军", "自主创业", "待就业"];
    let stack = |label: &str, parts: &[f64]| Stack {
        label: label.into(),
        parts: parts.to_vec(),
    };
    let stacks = [
        stack("重庆大学", &[3120.0, 2410.0, 35.0, 60.0, 210.0]),
        stack("四川大学", &[4100.0, 3650.0, 40.0, 85.0, 330.0]),
        stack(
            "重庆工程职业技术学院",
            &[3900.0, 820.0, 120.0, 140.0, 410.0],
        ),
        stack("成都航空职业技术学院", &[2900.0, 610.0, 95.0, 75.0, 260.0]),
    ];
    std::fs::write(
        format!("{dir}/stacked.svg"),
        stacked_bar_chart("毕业去向（人）", &names, &stacks),
    )?;
    std::fs::write(
        format!("{dir}/stacked-percent.svg"),
        stacked_percent_chart("毕业去向构成", &names, &stacks),
    )?;

    let flow = |from: &str, to: &str, value: f64| Flow {
        from: from.into(),
        to: to.into(),
        value,
    };
    let flows = [
        flow("四川", "四川", 41200.0),
        flow("四川", "重庆", 6800.0),
        flow("四川", "广东", 5200.0),
        flow("重庆", "重庆", 23800.0),
        flow("重庆", "四川", 4100.0),
        flow("重庆", "广东", 2600.0),
        flow("重庆", "浙江", 1200.0),
    ];
    std::fs::write(
        format!("{dir}/flow.svg"),
        flow_chart("就读地 → 就业地（人）", &flows),
    )?;
    std::fs::write(
        format!("{dir}/empty.svg"),
        bar_chart(&BarChart {
            title: "就业率",
            unit: "%",
            bars: &[],
            max: None,
        }),
    )?;
    Ok(())
}
