//! Positions in a file, for messages that name a line and never its text.

/// The line (from 1) that byte `offset` of `bytes` is on.
pub fn line_at(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count()
}
