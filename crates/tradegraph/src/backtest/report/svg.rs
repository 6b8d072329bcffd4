//! `equity.svg` and `drawdown.svg`: line plots drawn with plotters' SVG backend. Text is SVG
//! `<text>` (the browser picks the font): no system font is read.

use super::csv::EquityRow;
use super::ReportError;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use std::path::Path;
use tradegraph_core::Timestamp;

/// Points a plot draws at most: a longer curve keeps each bucket's lowest and highest point, so
/// a year of one-minute bars makes a small file that still shows every dip.
pub const MAX_PLOT_POINTS: usize = 2_000;

/// Plot size in pixels.
const SIZE: (u32, u32) = (960, 360);

/// The equity curve, as SVG text.
///
/// # Errors
/// [`ReportError::Plot`] (naming `path`, the file it is for) when plotters fails.
pub fn equity_svg(rows: &[EquityRow], title: &str, path: &Path) -> Result<String, ReportError> {
    let points: Vec<(i64, f64)> = rows
        .iter()
        .map(|r| (r.timestamp.millis(), r.equity.to_f64().unwrap_or(0.0)))
        .collect();
    plot(&points, title, "equity", RGBColor(31, 119, 180), path)
}

/// The drawdown curve (percent below the running peak, drawn downwards), as SVG text.
///
/// # Errors
/// [`ReportError::Plot`] (naming `path`) when plotters fails.
pub fn drawdown_svg(rows: &[EquityRow], title: &str, path: &Path) -> Result<String, ReportError> {
    let points: Vec<(i64, f64)> = rows
        .iter()
        .map(|r| (r.timestamp.millis(), -r.drawdown_pct))
        .collect();
    plot(&points, title, "drawdown %", RGBColor(214, 39, 40), path)
}

/// Keeps at most [`MAX_PLOT_POINTS`] (and the first and last point): per bucket its lowest and
/// highest point, in time order.
fn thin(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    if points.len() <= MAX_PLOT_POINTS {
        return points.to_vec();
    }
    let per = points.len().div_ceil(MAX_PLOT_POINTS / 2);
    let mut out = Vec::with_capacity(MAX_PLOT_POINTS + 2);
    let (Some(first), Some(last)) = (points.first().copied(), points.last().copied()) else {
        return out;
    };
    // the run's ends always: the x axis spans the whole run
    out.push(first);
    for bucket in points.chunks(per) {
        let lo = bucket
            .iter()
            .copied()
            .reduce(|a, b| if b.1 < a.1 { b } else { a });
        let hi = bucket
            .iter()
            .copied()
            .reduce(|a, b| if b.1 > a.1 { b } else { a });
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if lo.0 == hi.0 {
                out.push(lo);
            } else if lo.0 < hi.0 {
                out.extend([lo, hi]);
            } else {
                out.extend([hi, lo]);
            }
        }
    }
    out.push(last);
    out.dedup_by_key(|p| p.0);
    out
}

fn plot(
    points: &[(i64, f64)],
    title: &str,
    axis: &str,
    color: RGBColor,
    path: &Path,
) -> Result<String, ReportError> {
    let failed = |e: &dyn std::fmt::Display| ReportError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let points = thin(points);
    let (x0, x1) = match (points.first(), points.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => (a.0, b.0),
        (Some(a), _) => (a.0, a.0 + 60_000),
        _ => (0, 60_000),
    };
    let (mut y0, mut y1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    if !y0.is_finite() || !y1.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.05).max(y1.abs() * 1e-4).max(1e-6);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let span_days = (x1 - x0) as f64 / 86_400_000.0;
    let x_label = move |x: &i64| {
        let t = Timestamp::from_millis(*x).to_datetime();
        if span_days > 2.0 {
            t.format("%Y-%m-%d").to_string()
        } else {
            t.format("%m-%d %H:%M").to_string()
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| failed(&e))?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&x_label)
            .y_label_formatter(&|y: &f64| format!("{y:.2}"))
            .y_desc(axis)
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| failed(&e))?;
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn a_long_curve_is_thinned_and_keeps_its_extremes() {
        let points: Vec<(i64, f64)> = (0..100_000)
            .map(|i| {
                (
                    i * 60_000,
                    if i == 54_321 { -50.0 } else { (i % 97) as f64 },
                )
            })
            .collect();
        let thin = thin(&points);
        assert!(thin.len() <= MAX_PLOT_POINTS + 2, "{}", thin.len());
        assert!(thin.contains(&(54_321 * 60_000, -50.0)), "the dip is kept");
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
    }

    #[test]
    fn a_thinned_curve_keeps_its_first_and_last_point() {
        // rising then flat: each bucket's extremes are inside it, not at the run's ends
        let points: Vec<(i64, f64)> = (0..10_007)
            .map(|i| (i, if i % 10 == 5 { 1.0 } else { 0.0 }))
            .collect();
        let thin = thin(&points);
        assert_eq!(
            thin.first(),
            points.first(),
            "the x axis starts at the run's start"
        );
        assert_eq!(thin.last(), points.last(), "and ends at its end");
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
    }

    #[test]
    fn the_plot_is_an_svg_with_a_polyline_and_escaped_text() {
        let points: Vec<crate::engine::EquityPoint> = (0..500)
            .map(|i| crate::engine::EquityPoint {
                ts: Timestamp::from_millis(i * 60_000),
                equity: Decimal::from(1_000 + i % 13),
                drawdown_pct: 0.0,
            })
            .collect();
        let rows: Vec<EquityRow> = super::super::csv::equity_rows(&points);
        let svg = equity_svg(&rows, "A<B & \"C\"", Path::new("equity.svg")).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("<polyline"), "a line is drawn");
        assert!(svg.contains("A&lt;B &amp;"), "text is escaped");
        let empty = drawdown_svg(&[], "none", Path::new("drawdown.svg")).unwrap();
        assert!(empty.contains("</svg>"), "an empty run still makes a plot");
    }
}
