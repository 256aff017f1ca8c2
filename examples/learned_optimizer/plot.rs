//! The loss curves as CSV and as an SVG figure with a log-scale loss axis.

use std::fmt::Write as _;
use std::path::Path;

/// Writes `step,<name>,…` with one row per step.
pub fn write_csv(path: &Path, curves: &[(String, Vec<f64>)]) -> Result<(), String> {
    let mut text = String::from("step");
    for (name, _) in curves {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    for t in 0..curves[0].1.len() {
        text.push_str(&t.to_string());
        for (_, c) in curves {
            let _ = write!(text, ",{}", c[t]);
        }
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

const COLOURS: [&str; 5] = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"];

/// A line per curve, loss on a log₁₀ axis (non-finite and non-positive values are skipped).
pub fn write_svg(path: &Path, title: &str, curves: &[(String, Vec<f64>)]) -> Result<(), String> {
    let (w, h, left, right, top, bottom) = (640.0, 420.0, 70.0, 130.0, 40.0, 50.0);
    let values = curves.iter().flat_map(|(_, c)| c.iter().copied());
    let logs: Vec<f64> = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(f64::log10)
        .collect();
    let low = logs.iter().copied().fold(f64::INFINITY, f64::min).floor();
    let high = logs
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil()
        .max(low + 1.0);
    let steps = (curves[0].1.len() - 1).max(1) as f64;
    let x = |t: f64| left + (w - left - right) * t / steps;
    let y = |v: f64| top + (h - top - bottom) * (high - v.log10()) / (high - low);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{title}</text>\n",
        w / 2.0
    );
    // Axes, decade grid lines and labels.
    let _ = writeln!(
        svg,
        "<path d=\"M{left} {top} V{} H{}\" stroke=\"black\" fill=\"none\"/>",
        h - bottom,
        w - right
    );
    for decade in low as i32..=high as i32 {
        let yy = y(10f64.powi(decade));
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">1e{decade}</text>",
            w - right,
            left - 6.0,
            yy + 4.0
        );
    }
    for k in 0..=4 {
        let t = steps * k as f64 / 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            x(t),
            h - bottom + 18.0,
            t.round()
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">step</text>\
         <text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">loss (log scale)</text>",
        (left + w - right) / 2.0,
        h - 12.0,
        h / 2.0,
        h / 2.0
    );
    for (k, (name, curve)) in curves.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut d = String::new();
        for (t, v) in curve.iter().enumerate() {
            if v.is_finite() && *v > 0.0 {
                let _ = write!(
                    d,
                    "{}{:.1} {:.1} ",
                    if d.is_empty() { "M" } else { "L" },
                    x(t as f64),
                    y(*v)
                );
            }
        }
        let _ = writeln!(
            svg,
            "<path d=\"{d}\" stroke=\"{colour}\" stroke-width=\"{}\" fill=\"none\"/>\
             <text x=\"{}\" y=\"{}\" fill=\"{colour}\">{name}</text>",
            if k == 0 { 2.5 } else { 1.5 },
            w - right + 10.0,
            top + 16.0 * k as f64 + 10.0
        );
    }
    svg.push_str("</svg>\n");
    std::fs::write(path, svg).map_err(|e| format!("{}: {e}", path.display()))
}
