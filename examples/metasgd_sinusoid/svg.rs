//! A small hand-written SVG plot: the picture of MAML's Figure 2 for a few test tasks — the
//! true curve, the K support points, and the model's prediction before and after adaptation;
//! for a learner with a predictive distribution (a neural process), the ±2σ band around it.

use std::fmt::Write;

/// One panel: a task's curves over a shared x grid.
pub struct Panel {
    pub xs: Vec<f64>,
    pub truth: Vec<f64>,
    pub before: Vec<f64>,
    pub after: Vec<f64>,
    /// (μ − 2σ, μ + 2σ) at each x, when the learner gives σ.
    pub band: Option<Vec<(f64, f64)>>,
    pub support: Vec<(f64, f64)>,
}

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 240.0;
const MARGIN: f64 = 30.0;

/// Panels side by side, with a legend, as an SVG document.
pub fn render(panels: &[Panel], title: &str) -> String {
    let mut svg = String::new();
    let total_width = WIDTH * panels.len() as f64;
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}" height="{h}" font-family="sans-serif" font-size="12">"#,
        h = HEIGHT + 55.0
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="10" y="18" font-size="14">{title}</text>"#);
    for (k, panel) in panels.iter().enumerate() {
        draw_panel(&mut svg, panel, k as f64 * WIDTH, 25.0);
    }
    let mut legend = [
        ("#222", "true function"),
        ("#999", "before adaptation"),
        ("#d62728", "after adaptation"),
    ];
    if panels.iter().any(|p| p.band.is_some()) {
        legend[2] = ("#d62728", "after: mean, ±2σ");
    }
    for (k, (colour, label)) in legend.iter().enumerate() {
        let x = 10.0 + 170.0 * k as f64;
        let y = HEIGHT + 45.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="2"/>"#,
            x + 25.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}">{label}</text>"#,
            x + 30.0,
            y + 4.0
        );
    }
    let x = 10.0 + 170.0 * 3.0;
    let _ = writeln!(
        svg,
        r##"<circle cx="{}" cy="{}" r="4" fill="#1f77b4"/><text x="{}" y="{}">support points</text>"##,
        x + 12.0,
        HEIGHT + 45.0,
        x + 22.0,
        HEIGHT + 49.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn draw_panel(svg: &mut String, panel: &Panel, left: f64, top: f64) {
    let band_edges = panel.band.iter().flatten().flat_map(|(l, h)| [l, h]);
    let all = panel
        .truth
        .iter()
        .chain(&panel.before)
        .chain(&panel.after)
        .chain(band_edges)
        .chain(panel.support.iter().map(|(_, y)| y));
    let (low, high) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
        (l.min(v), h.max(v))
    });
    let (low, high) = (low.min(-1.0) - 0.5, high.max(1.0) + 0.5);
    let (x0, x1) = (panel.xs[0], *panel.xs.last().unwrap());
    let px = |x: f64| left + MARGIN + (x - x0) / (x1 - x0) * (WIDTH - 2.0 * MARGIN);
    let py = |y: f64| top + (high - y) / (high - low) * (HEIGHT - 2.0 * MARGIN) + MARGIN / 2.0;
    let _ = writeln!(
        svg,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#ccc"/>"##,
        left + MARGIN,
        top + MARGIN / 2.0,
        WIDTH - 2.0 * MARGIN,
        HEIGHT - 2.0 * MARGIN
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/>"##,
        px(x0),
        px(x1),
        y = py(0.0)
    );
    // Tick labels: x at both ends and the middle; y at 0 and the integers nearest the edges.
    let bottom = top + HEIGHT - MARGIN / 2.0 + 12.0;
    for x in [x0, (x0 + x1) / 2.0, x1] {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{bottom:.1}" text-anchor="middle" fill="#555">{x}</text>"##,
            px(x)
        );
    }
    for y in [high.floor(), 0.0, low.ceil()] {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555">{y}</text>"##,
            left + MARGIN - 4.0,
            py(y) + 4.0
        );
    }
    let polyline = |svg: &mut String, ys: &[f64], colour: &str, dash: &str| {
        let points: Vec<String> = panel
            .xs
            .iter()
            .zip(ys)
            .map(|(&x, &y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2" {dash}/>"#,
            points.join(" ")
        );
    };
    if let Some(band) = &panel.band {
        // Upper edge left to right, lower edge back: one closed shape under the curves.
        let upper = panel.xs.iter().zip(band).map(|(&x, &(_, h))| (x, h));
        let lower = panel.xs.iter().zip(band).rev().map(|(&x, &(l, _))| (x, l));
        let points: Vec<String> = upper
            .chain(lower)
            .map(|(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            svg,
            r##"<polygon points="{}" fill="#d62728" fill-opacity="0.18" stroke="none"/>"##,
            points.join(" ")
        );
    }
    polyline(svg, &panel.truth, "#222", "");
    polyline(svg, &panel.before, "#999", r#"stroke-dasharray="5,4""#);
    polyline(svg, &panel.after, "#d62728", "");
    for &(x, y) in &panel.support {
        let _ = writeln!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f77b4"/>"##,
            px(x),
            py(y)
        );
    }
}
