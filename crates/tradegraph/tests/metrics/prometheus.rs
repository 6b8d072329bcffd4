//! A strict reader of the Prometheus text exposition format (0.0.4): what a Prometheus server
//! would refuse, this refuses, naming the line.
//!
//! Checked: metric and label names; quoted, escaped label values; numbers (`+Inf`, `-Inf`,
//! `NaN` included); one `# TYPE` per family, before its samples; samples of a family together;
//! no series twice; histograms with `_bucket` (an `le` each, cumulative, ending at `+Inf`),
//! `_sum` and `_count` (equal to the `+Inf` bucket); counters and buckets never negative.

use std::collections::{BTreeMap, BTreeSet};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    /// The sample's own name (`x_bucket`, `x_sum`, ... for a histogram).
    pub(crate) name: String,
    /// Its labels.
    pub(crate) labels: BTreeMap<String, String>,
    /// Its value.
    pub(crate) value: f64,
}

/// One metric family.
#[derive(Debug, Clone, Default)]
pub(crate) struct Family {
    /// `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    pub(crate) kind: String,
    /// The `# HELP` text, if any.
    pub(crate) help: Option<String>,
    /// Its samples, in order.
    pub(crate) samples: Vec<Sample>,
}

/// Parses `text`; every family by name.
pub(crate) fn parse(text: &str) -> Result<BTreeMap<String, Family>, String> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series: BTreeSet<(String, Vec<(String, String)>)> = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let rest = rest.trim_start();
            let (keyword, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            if keyword != "TYPE" && keyword != "HELP" {
                continue;
            }
            let (name, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            check_metric_name(name).map_err(at)?;
            if finished.contains(name) {
                return Err(at(format!("{name} is declared again after other families")));
            }
            switch(&mut current, &mut finished, name);
            let family = families.entry(name.to_owned()).or_default();
            if keyword == "TYPE" {
                if !family.kind.is_empty() {
                    return Err(at(format!("a second TYPE for {name}")));
                }
                if !family.samples.is_empty() {
                    return Err(at(format!("TYPE of {name} after its samples")));
                }
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&arg) {
                    return Err(at(format!("unknown type {arg:?}")));
                }
                family.kind = arg.to_owned();
            } else {
                if family.help.is_some() {
                    return Err(at(format!("a second HELP for {name}")));
                }
                family.help = Some(arg.to_owned());
            }
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        let family_name = family_of(&sample.name, &families);
        if finished.contains(&family_name) {
            return Err(at(format!("samples of {family_name} are not together")));
        }
        switch(&mut current, &mut finished, &family_name);
        let key = (
            sample.name.clone(),
            sample.labels.clone().into_iter().collect::<Vec<_>>(),
        );
        if !series.insert(key) {
            return Err(at("the same series twice".into()));
        }
        let family = families.entry(family_name.clone()).or_default();
        if family.kind.is_empty() {
            family.kind = "untyped".into();
        }
        if family.kind == "counter" && (sample.value.is_nan() || sample.value < 0.0) {
            return Err(at("a counter below zero".into()));
        }
        family.samples.push(sample);
    }
    for (name, family) in &families {
        if family.kind == "histogram" {
            check_histogram(name, family)?;
        }
    }
    Ok(families)
}

/// Starts `name`'s family, closing the previous one.
fn switch(current: &mut Option<String>, finished: &mut BTreeSet<String>, name: &str) {
    if current.as_deref() != Some(name) {
        if let Some(previous) = current.take() {
            finished.insert(previous);
        }
        *current = Some(name.to_owned());
    }
}

/// The family a sample belongs to: a histogram's or summary's for its suffixed samples.
fn family_of(sample: &str, families: &BTreeMap<String, Family>) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = sample.strip_suffix(suffix) {
            if families
                .get(base)
                .is_some_and(|f| f.kind == "histogram" || f.kind == "summary")
            {
                return base.to_owned();
            }
        }
    }
    sample.to_owned()
}

/// One histogram series: its buckets (`le`, count), `_sum` and `_count`.
type Series = (Vec<(f64, f64)>, Option<f64>, Option<f64>);

fn check_histogram(name: &str, family: &Family) -> Result<(), String> {
    let mut groups: BTreeMap<Vec<(String, String)>, Series> = BTreeMap::new();
    for s in &family.samples {
        let mut labels = s.labels.clone();
        let le = labels.remove("le");
        let group = groups
            .entry(labels.into_iter().collect())
            .or_insert((Vec::new(), None, None));
        match s.name.strip_prefix(name) {
            Some("_bucket") => {
                let le = le.ok_or_else(|| format!("{name}: a bucket without le"))?;
                group.0.push((parse_value(&le)?, s.value));
            }
            Some("_sum") => group.1 = Some(s.value),
            Some("_count") => group.2 = Some(s.value),
            _ => return Err(format!("{name}: sample {} is not a histogram's", s.name)),
        }
    }
    for (labels, (buckets, sum, count)) in groups {
        let (Some(_), Some(count)) = (sum, count) else {
            return Err(format!("{name}{labels:?}: _sum or _count missing"));
        };
        let mut previous = (f64::NEG_INFINITY, 0.0);
        for &(le, n) in &buckets {
            if le <= previous.0 || n < previous.1 {
                return Err(format!("{name}{labels:?}: buckets not cumulative"));
            }
            previous = (le, n);
        }
        if previous.0 != f64::INFINITY || previous.1 != count {
            return Err(format!(
                "{name}{labels:?}: the +Inf bucket must equal _count"
            ));
        }
    }
    Ok(())
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("bad label name {name:?}"))
    }
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text
            .parse::<f64>()
            .ok()
            .filter(|_| !text.contains(['i', 'I', 'n', 'N']))
            .ok_or_else(|| format!("bad value {text:?}")),
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    check_metric_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        let end = loop {
            let Some(&(i, c)) = chars.peek() else {
                return Err("unclosed label set".into());
            };
            if c == '}' {
                break i;
            }
            let start = i;
            while chars.peek().is_some_and(|&(_, c)| c != '=') {
                chars.next();
            }
            let eq = chars.next().ok_or("label without =")?.0;
            let key = &inner[start..eq];
            check_label_name(key)?;
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label {key}: value not quoted"));
            }
            let mut value = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => return Err(format!("label {key}: bad escape {other:?}")),
                    },
                    Some('\n') | None => return Err(format!("label {key}: unterminated")),
                    Some(c) => value.push(c),
                }
            }
            if labels.insert(key.to_owned(), value).is_some() {
                return Err(format!("label {key} twice"));
            }
            match chars.peek().map(|&(_, c)| c) {
                Some(',') => {
                    chars.next();
                }
                Some('}') => {}
                other => return Err(format!("after label {key}: {other:?}")),
            }
        };
        rest = &inner[end + 1..];
    }
    let mut parts = rest
        .strip_prefix(' ')
        .ok_or("no space before the value")?
        .split(' ');
    let value = parse_value(parts.next().ok_or("no value")?)?;
    if let Some(ts) = parts.next() {
        ts.parse::<i64>()
            .map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if parts.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

#[test]
fn the_reader_refuses_what_prometheus_refuses() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\\\"q\\n\"} 3\n\
                # TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.7\nh_count 2\n";
    let families = parse(good).unwrap();
    assert_eq!(families["a_total"].samples[0].labels["x"], "1\"q\n");
    assert_eq!(families["h"].samples.len(), 4);
    for bad in [
        "a-b 1\n",
        "a{x=1} 1\n",
        "a{x=\"1\"} one\n",
        "a{x=\"1\",x=\"2\"} 1\n",
        "a 1\na 2\n",
        "# TYPE a counter\na -1\n",
        "# TYPE a counter\n# TYPE a gauge\n",
        "# TYPE a wat\n",
        "a 1\nb 1\na{x=\"y\"} 1\n",
        "a 1\n# TYPE a counter\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
        "a{x=\"1\" 1\n",
        "a 1 2 3\n",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}
