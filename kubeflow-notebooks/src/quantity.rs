//! Parsing Kubernetes quantities (`500m`, `1.5`, `512Mi`, `1G`, `1e3`) to compare them.

/// The value of a quantity as a float, or `None` when it is not a valid quantity. Precise
/// enough to compare requests with limits.
pub(crate) fn parse_quantity(s: &str) -> Option<f64> {
    const BINARY: [(&str, f64); 6] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
    ];
    const DECIMAL: [(char, f64); 9] = [
        ('n', 1e-9),
        ('u', 1e-6),
        ('m', 1e-3),
        ('k', 1e3),
        ('M', 1e6),
        ('G', 1e9),
        ('T', 1e12),
        ('P', 1e15),
        ('E', 1e18),
    ];
    if s.is_empty() {
        return None;
    }
    for (suffix, factor) in BINARY {
        if let Some(num) = s.strip_suffix(suffix) {
            return number(num).map(|n| n * factor);
        }
    }
    if let Some(last) = s.chars().last() {
        for (suffix, factor) in DECIMAL {
            if last == suffix {
                return number(&s[..s.len() - 1]).map(|n| n * factor);
            }
        }
    }
    // Exponent form: <number>e<signed number>.
    if let Some(pos) = s.find(['e', 'E']) {
        let (mantissa, exp) = (&s[..pos], &s[pos + 1..]);
        let exp_digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        let exp_value = number(exp_digits)?;
        let exp_value = if exp.starts_with('-') {
            -exp_value
        } else {
            exp_value
        };
        return number(mantissa).map(|m| m * 10f64.powf(exp_value));
    }
    number(s)
}

/// `(+|-)?(digits(.digits?)?|.digits)`.
fn number(s: &str) -> Option<f64> {
    let (negative, body) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let ok_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if !ok_digits(int) || !ok_digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    if int.is_empty() && !body.starts_with('.') {
        return None;
    }
    let v: f64 = body.parse().ok()?;
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::parse_quantity as q;

    #[test]
    fn quantities() {
        assert_eq!(q("500m"), Some(0.5));
        assert_eq!(q("0.5"), Some(0.5));
        assert_eq!(q("2"), Some(2.0));
        assert_eq!(q("1Gi"), Some(1_073_741_824.0));
        assert_eq!(q("512Mi"), Some(536_870_912.0));
        assert_eq!(q("1G"), Some(1e9));
        assert_eq!(q("1e3"), Some(1000.0));
        assert_eq!(q(".5"), Some(0.5));
        assert_eq!(q("1."), Some(1.0));
        assert_eq!(q("-1"), Some(-1.0));
        for bad in [
            "", "abc", "1GB", "1 Gi", "Gi", "1..2", "m", ".", "1e", "0x10",
        ] {
            assert_eq!(q(bad), None, "{bad}");
        }
        assert!(q("1Gi").unwrap_or(0.0) > q("1G").unwrap_or(f64::MAX));
    }
}
