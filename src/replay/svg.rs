//! `--plot FILE.svg`: granted reclaims per second over time, drawn against the grace
//! window, as plain SVG text.

use super::outcome::Outcome;
use super::report::{bins, Grace};
use std::fmt::Write as _;

const W: f64 = 900.0;
const H: f64 = 360.0;
const L: f64 = 70.0;
const R: f64 = 20.0;
const T: f64 = 40.0;
const B: f64 = 50.0;

/// A "nice" step for about `n` ticks over `span`.
fn step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    mag * if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The plot of one run's outcomes.
pub fn plot(outcomes: &[Outcome], grace: Option<&Grace>, title: &str) -> String {
    let last = outcomes.iter().filter(|o| o.kind.is_reclaim()).map(|o| o.end).fold(0.0f64, f64::max);
    let g_end = grace.and_then(|g| g.end()).map(|e| e.0);
    let g_start = grace.and_then(|g| g.start);
    let x0 = g_start.unwrap_or(0.0).min(0.0);
    let x1 = last.max(g_end.unwrap_or(0.0)).max(x0 + 1e-3) * 1.05;
    // about 120 bars over the run
    let width = step((last.max(1e-3)) / 120.0, 1.0);
    let b = bins(outcomes, width);
    let rate = |n: usize| n as f64 / width;
    let ymax = b.iter().map(|x| rate(x.answered)).fold(1.0f64, f64::max) * 1.1;
    let px = |t: f64| L + (t - x0) / (x1 - x0) * (W - L - R);
    let py = |v: f64| H - B - v / ymax * (H - T - B);
    let mut s = String::new();
    let _ = writeln!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(s, r#"<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{}" y="20" text-anchor="middle" font-size="14">{}</text>"#, W / 2.0, esc(title));
    if let (Some(a), Some(e)) = (g_start.or(Some(x0)), g_end) {
        let (xa, xe) = (px(a), px(e));
        let _ = writeln!(s, r##"<rect x="{xa:.1}" y="{T}" width="{:.1}" height="{:.1}" fill="#dbeafe"><title>grace window</title></rect>"##, (xe - xa).max(0.0), H - T - B);
        let _ = writeln!(s, r##"<line x1="{xe:.1}" y1="{T}" x2="{xe:.1}" y2="{:.1}" stroke="#1d4ed8" stroke-dasharray="4 3"/>"##, H - B);
        let _ = writeln!(s, r##"<text x="{:.1}" y="{:.1}" fill="#1d4ed8" text-anchor="end">grace end</text>"##, xe - 4.0, T + 14.0);
    }
    for bin in &b {
        let (xa, xb) = (px(bin.t), px(bin.t + width));
        let w = (xb - xa - 0.5).max(0.5);
        let ya = py(rate(bin.answered));
        let yg = py(rate(bin.granted));
        if bin.answered > bin.granted {
            let _ = writeln!(s, r##"<rect x="{xa:.2}" y="{ya:.2}" width="{w:.2}" height="{:.2}" fill="#f87171"/>"##, yg - ya);
        }
        let _ = writeln!(s, r##"<rect x="{xa:.2}" y="{yg:.2}" width="{w:.2}" height="{:.2}" fill="#16a34a"/>"##, (H - B) - yg);
    }
    if last > 0.0 {
        let xl = px(last);
        let _ = writeln!(s, r##"<line x1="{xl:.1}" y1="{T}" x2="{xl:.1}" y2="{:.1}" stroke="#111" stroke-dasharray="2 2"/>"##, H - B);
        let _ = writeln!(s, r##"<text x="{:.1}" y="{:.1}">last answer {last:.2} s</text>"##, xl + 4.0, T + 28.0);
    }
    // axes and ticks
    let _ = writeln!(s, r##"<line x1="{L}" y1="{0}" x2="{1}" y2="{0}" stroke="#111"/>"##, H - B, W - R);
    let _ = writeln!(s, r##"<line x1="{L}" y1="{T}" x2="{L}" y2="{}" stroke="#111"/>"##, H - B);
    let xs = step(x1 - x0, 10.0);
    let mut t = (x0 / xs).ceil() * xs;
    while t <= x1 {
        let x = px(t);
        let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{0}" x2="{x:.1}" y2="{1}" stroke="#111"/><text x="{x:.1}" y="{2}" text-anchor="middle">{3}</text>"##, H - B, H - B + 4.0, H - B + 18.0, fmt_num(t));
        t += xs;
    }
    let ys = step(ymax, 6.0);
    let mut v = 0.0;
    while v <= ymax {
        let y = py(v);
        let _ = writeln!(s, r##"<line x1="{0}" y1="{y:.1}" x2="{L}" y2="{y:.1}" stroke="#111"/><text x="{1}" y="{2:.1}" text-anchor="end">{3}</text>"##, L - 4.0, L - 6.0, y + 4.0, fmt_num(v));
        v += ys;
    }
    let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="middle">seconds since the replay began</text>"#, (L + W - R) / 2.0, H - 12.0);
    let _ = writeln!(s, r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">reclaims per second</text>"#, (T + H - B) / 2.0, (T + H - B) / 2.0);
    let _ = writeln!(s, r##"<text x="{}" y="{}" text-anchor="end"><tspan fill="#16a34a">■ granted</tspan> <tspan fill="#f87171">■ refused</tspan></text>"##, W - R, T - 6.0);
    s.push_str("</svg>\n");
    s
}

fn fmt_num(v: f64) -> String {
    let v = v + 0.0; // no "-0" for a tick that rounds to zero from below
    if v.abs() >= 100.0 || (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v)
    } else {
        format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::outcome::{Kind, Result as Res};

    #[test]
    fn steps_are_nice() {
        assert_eq!(step(100.0, 10.0), 10.0);
        assert_eq!(step(7.0, 10.0), 1.0);
        assert_eq!(step(0.03, 10.0), 0.005);
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(20.0), "20");
        assert_eq!(fmt_num((-0.016_f64 / 10.0).ceil() * 10.0), "0");
    }

    #[test]
    fn plot_has_bars_grace_window_and_is_well_formed() {
        let o = |end: f64, ok: bool| Outcome {
            protocol: "NLM4",
            kind: Kind::NlmLock,
            client: 0,
            client_name: "a<b".into(),
            result: if ok { Res::Granted } else { Res::Refused { status: "X".into(), code: 1, sent: true } },
            start: end - 0.01,
            end,
            attempts: 1,
            xid: 1,
        };
        let outs: Vec<Outcome> = (0..50).map(|i| o(0.1 + i as f64 * 0.02, i % 10 != 0)).collect();
        let g = Grace { start: Some(-0.5), length: 2.0, observed_end: None, seen_in_grace: true };
        let svg = plot(&outs, Some(&g), "storm <test>");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("grace window") && svg.contains("grace end") && svg.contains("storm &lt;test&gt;"));
        assert!(svg.matches("#16a34a").count() > 10, "granted bars");
        assert!(svg.contains("#f87171"), "refused part of a bar");
        // balanced elements: every opened tag is closed or self-closed
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        let empty = plot(&[], None, "nothing");
        assert!(empty.contains("</svg>") && !empty.contains("NaN"));
    }
}
