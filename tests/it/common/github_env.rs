//! A `$GITHUB_ENV` / `$GITHUB_OUTPUT` parser that follows the Actions runner's
//! file-command rules: lines end at `\n` (a `\r` before it belongs to the line
//! ending); on each non-empty line the first of `=` or `<<` decides the form;
//! a heredoc's value runs to the first line exactly equal to the delimiter,
//! and the newline before that line is not part of the value.

pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some((line, _)) = read_line(text, &mut pos) {
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                let (name, value) = (&line[..e], &line[e + 1..]);
                if name.is_empty() {
                    return Err(format!("empty name in {line:?}"));
                }
                out.push((name.to_string(), value.to_string()));
            }
            (_, Some(h)) => {
                let (name, delim) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delim.is_empty() {
                    return Err(format!("bad heredoc start {line:?}"));
                }
                let start = pos;
                let mut end = pos;
                loop {
                    match read_line(text, &mut pos) {
                        None => return Err(format!("matching delimiter not found for {name}")),
                        Some((l, _)) if l == delim => break,
                        Some((_, None)) => return Err(format!("EOF marker missing new line for {name}")),
                        Some((_, Some(newline))) => end = pos - newline,
                    }
                }
                out.push((name.to_string(), if end > start { text[start..end].to_string() } else { String::new() }));
            }
            _ => return Err(format!("invalid line {line:?}")),
        }
    }
    Ok(out)
}

/// The next line and the length of its line ending (`None` at end of text).
fn read_line<'a>(text: &'a str, pos: &mut usize) -> Option<(&'a str, Option<usize>)> {
    if *pos >= text.len() {
        return None;
    }
    let rest = &text[*pos..];
    match rest.find('\n') {
        Some(i) => {
            let crlf = i > 0 && rest.as_bytes()[i - 1] == b'\r';
            let line = if crlf { &rest[..i - 1] } else { &rest[..i] };
            *pos += i + 1;
            Some((line, Some(if crlf { 2 } else { 1 })))
        }
        None => {
            *pos = text.len();
            Some((rest, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let got = parse("A=1\nB<<EOF\nx\r\ny\nEOF\n\nC=a<<b\nD<<E=F\nv\nE=F\n").unwrap();
        let want = [("A", "1"), ("B", "x\r\ny"), ("C", "a<<b"), ("D", "v")];
        assert_eq!(got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect::<Vec<_>>(), want);
    }

    #[test]
    fn errors() {
        assert!(parse("B<<EOF\nx\n").is_err());
        assert!(parse("=x\n").is_err());
        assert!(parse("nothing\n").is_err());
    }
}
