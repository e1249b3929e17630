//! Values that have broken secret loaders before: every format and target that
//! writes values is tested with all of them.

pub fn hostile() -> Vec<(&'static str, String)> {
    vec![
        ("MULTI", "line1\nline2\n".into()),
        ("CRLF", "crlf\r\nline\r\nend".into()),
        ("PERCENT", "100% %0A %25 literal".into()),
        ("COMMANDS", "::add-mask::x\n::error::boom\n::set-output name=a::b".into()),
        ("DELIMS", "EOF\nghadelimiter_\n<<EOF\nEOF\n".into()),
        ("UNICODE", "héllo 🌍 中文 \u{200b}".into()),
        ("EMPTY", String::new()),
        ("QUOTES", "it's \"quoted\" `cmd` \\ back\\\\slash".into()),
        ("EQUALS", "=starts=with=equals".into()),
        ("HEREDOC_LIKE", "NAME<<X\nX\nNAME=1".into()),
        ("SPACES", "  padded  ".into()),
        ("DOLLAR", "cost $5 and $HOME".into()),
        ("QUOTE_DOLLAR", "it's $5".into()),
        ("TAB", "a\tb".into()),
        ("BIG", "0123456789abcdef".repeat(64 * 1024)), // 1 MiB
    ]
}

/// The corpus values that no dotenv form makes both python-dotenv and dotenvy
/// read exactly (see src/sink/dotenv.rs): escort warns about each.
pub const DOTENV_CAVEATS: &[&str] = &["CRLF", "QUOTE_DOLLAR"];
