//! The little markup of author texts, applied to already-escaped HTML:
//! blank lines separate paragraphs, lines starting with `- ` make a list,
//! `**text**` is bold. Nothing else, so nothing an author writes can
//! become a script.

/// Turns escaped text into paragraphs and lists, written straight into
/// one string (a step page renders two or three of these).
pub(crate) fn to_html(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len() + 32);
    for block in escaped.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        let lines = || block.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines().all(|l| l.starts_with("- ")) {
            out.push_str("<ul>");
            for l in lines() {
                out.push_str("<li>");
                push_bold(&mut out, &l[2..]);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        } else {
            out.push_str("<p>");
            for (i, l) in lines().enumerate() {
                if i > 0 {
                    out.push_str("<br>");
                }
                push_bold(&mut out, l);
            }
            out.push_str("</p>");
        }
    }
    out
}

/// `**x**` to `<strong>x</strong>`, only when the stars pair up.
fn push_bold(out: &mut String, line: &str) {
    let pairs = line.matches("**").count();
    if pairs < 2 || pairs % 2 == 1 {
        out.push_str(line);
        return;
    }
    for (i, part) in line.split("**").enumerate() {
        if i % 2 == 1 {
            out.push_str("<strong>");
            out.push_str(part);
            out.push_str("</strong>");
        } else {
            out.push_str(part);
        }
    }
}

/// A one-line text, without paragraphs: bold only.
pub(crate) fn inline(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    push_bold(&mut out, escaped.trim());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_and_bold() {
        assert_eq!(
            to_html("Bonjour **Marie**.\nSuite.\n\n- un\n- deux\n"),
            "<p>Bonjour <strong>Marie</strong>.<br>Suite.</p><ul><li>un</li><li>deux</li></ul>"
        );
        assert_eq!(to_html("a ** b"), "<p>a ** b</p>");
        assert_eq!(to_html("**a** ** b"), "<p>**a** ** b</p>", "three pairs of stars: none is bold");
        assert_eq!(inline("  un **deux** trois **quatre**  "), "un <strong>deux</strong> trois <strong>quatre</strong>");
        assert_eq!(to_html("- **a**\n- b\n\nc\n\n\nd"), "<ul><li><strong>a</strong></li><li>b</li></ul><p>c</p><p>d</p>");
    }
}
