//! Memory that is zeroed when it is dropped: a value's text, a response body,
//! rendered output.
//!
//! The zeroing covers the whole allocation (spare capacity too) with volatile
//! stores, which the compiler may not drop as dead even though the memory is
//! freed right after, as the `zeroize` crate does; but a word at a time, not
//! a byte: wiping a load's response body and values byte by byte cost a tenth
//! of the whole load (docs/benchmarks.md).

use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};

/// A `String` or `Vec<u8>` zeroed, whole allocation, when dropped.
///
/// A `Wiped<String>` grows through its own `push`, `push_str` and `reserve`,
/// which wipe the buffer they leave. Anything else that grows it (`String`'s
/// methods reached through `DerefMut`, a function taking `&mut String`, any
/// `Wiped<Vec<u8>>`) frees the old buffer unwiped: size those up front.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Wiped<T: Buffer>(T);

impl<T: Buffer> Wiped<T> {
    pub fn new(inner: T) -> Self {
        Wiped(inner)
    }

    /// Zero the buffer now and leave its memory to the operating system, for
    /// what lives until escort exits: freeing thousands of values one by one
    /// just before the process ends is work for nothing.
    pub fn wipe_and_leak(self) {
        let mut this = std::mem::ManuallyDrop::new(self);
        wipe(this.0.bytes());
    }
}

impl<T: Buffer> Deref for Wiped<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Buffer> DerefMut for Wiped<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Buffer> Drop for Wiped<T> {
    fn drop(&mut self) {
        wipe(self.0.bytes());
    }
}

impl Wiped<String> {
    /// Append `text`. Room is made as `reserve` makes it, so that no copy of
    /// the text is left behind (`String` would free its old buffer unwiped).
    #[inline]
    pub fn push_str(&mut self, text: &str) {
        self.reserve(text.len());
        self.0.push_str(text);
    }

    #[inline]
    pub fn push(&mut self, c: char) {
        self.reserve(c.len_utf8());
        self.0.push(c);
    }

    /// Room for `additional` more bytes: when there is not, the text moves to
    /// a buffer twice as big and the old one is wiped as it is freed.
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        if self.0.capacity() - self.0.len() < additional {
            self.grow(additional);
        }
    }

    #[cold]
    fn grow(&mut self, additional: usize) {
        let mut bigger = String::with_capacity((self.0.len() + additional).max(2 * self.0.capacity()));
        bigger.push_str(&self.0);
        *self = Wiped(bigger);
    }
}

/// What `Wiped` can hold: a buffer of bytes.
pub trait Buffer {
    fn bytes(&mut self) -> &mut Vec<u8>;
}

impl Buffer for Vec<u8> {
    fn bytes(&mut self) -> &mut Vec<u8> {
        self
    }
}

impl Buffer for String {
    fn bytes(&mut self) -> &mut Vec<u8> {
        // SAFETY: `wipe` empties the vector before it zeroes anything, so the
        // string never holds bytes that are not UTF-8.
        unsafe { self.as_mut_vec() }
    }
}

/// Empty `buf` and zero its whole allocation.
pub fn wipe(buf: &mut Vec<u8>) {
    buf.clear();
    // SAFETY: any bytes are valid words, and `MaybeUninit` may hold anything.
    let (head, words, tail) = unsafe { buf.spare_capacity_mut().align_to_mut::<MaybeUninit<[u64; 4]>>() };
    for byte in head.iter_mut().chain(tail) {
        // SAFETY: a valid, aligned pointer to a byte of the allocation.
        unsafe { std::ptr::write_volatile(byte.as_mut_ptr(), 0) };
    }
    for word in words {
        // SAFETY: a valid, aligned pointer to four words of the allocation.
        unsafe { std::ptr::write_volatile(word.as_mut_ptr(), [0; 4]) };
    }
    // Nor may it move the stores past the free that follows.
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_the_whole_allocation_spare_capacity_too() {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(b"wipe-canary wipe-canary wipe-canary");
        buf.truncate(4);
        let cap = buf.capacity();
        wipe(&mut buf);
        assert!(buf.is_empty());
        // SAFETY: `wipe` wrote every byte of the allocation.
        let all = unsafe { std::slice::from_raw_parts(buf.as_ptr(), cap) };
        assert!(all.iter().all(|&b| b == 0), "{all:?}");
    }

    #[test]
    fn wipe_and_leak_zeroes_the_buffer() {
        let mut s = Wiped::new(String::with_capacity(32));
        s.push_str("leak-canary");
        let (ptr, cap) = (s.as_ptr(), s.capacity());
        s.wipe_and_leak();
        // SAFETY: the buffer was leaked, not freed: it is still ours to read.
        let all = unsafe { std::slice::from_raw_parts(ptr, cap) };
        assert!(all.iter().all(|&b| b == 0), "{all:?}");
    }

    #[test]
    fn a_wiped_string_grows_by_moving_to_a_new_buffer() {
        let mut s = Wiped::new(String::with_capacity(4));
        s.push_str("abcd");
        let before = s.as_ptr();
        s.push('é');
        assert_eq!((s.as_str(), s.capacity()), ("abcdé", 8));
        assert_ne!(s.as_ptr(), before, "moved to a new buffer, the old one wiped");
        s.push_str("0123456789");
        assert_eq!((s.as_str(), s.capacity()), ("abcdé0123456789", 16));
    }
}
