//! Memory that is zeroed when it is dropped: a value's text, a response body,
//! rendered output.
//!
//! The zeroing is one `memset` of the whole allocation (spare capacity too),
//! followed by an empty assembly block that is handed the buffer's address.
//! The compiler must assume that block reads the zeros, so it cannot drop
//! them as dead stores before the memory is freed: the technique of
//! BoringSSL's `OPENSSL_cleanse`. The `zeroize` crate writes each byte with a
//! volatile store instead, which made wiping a load's response body and values
//! cost a tenth of the whole load (docs/benchmarks.md).

use std::ops::{Deref, DerefMut};

/// A `String` or `Vec<u8>` zeroed, whole allocation, when dropped.
///
/// As with any buffer, growing it moves the text to a new allocation and
/// frees the old one unwiped: size it up front when it will hold a value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Wiped<T: Buffer>(T);

impl<T: Buffer> Wiped<T> {
    pub fn new(inner: T) -> Self {
        Wiped(inner)
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
    let spare = buf.spare_capacity_mut();
    let (ptr, len) = (spare.as_mut_ptr().cast::<u8>(), spare.len());
    // SAFETY: `ptr..ptr + len` is the vector's own allocation.
    unsafe { std::ptr::write_bytes(ptr, 0, len) };
    keep(ptr);
}

/// Tell the compiler the memory at `ptr` may be read here, so the zeros
/// written before are kept.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
))]
#[inline(always)]
fn keep(ptr: *mut u8) {
    // SAFETY: an empty block: it reads one register, writes no memory.
    unsafe { std::arch::asm!("/* {0} */", in(reg) ptr, options(nostack, readonly, preserves_flags)) }
}

/// Elsewhere, the best the standard library offers.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
)))]
#[inline(always)]
fn keep(ptr: *mut u8) {
    std::hint::black_box(ptr);
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
    fn a_wiped_string_reads_like_its_string() {
        let mut s = Wiped::new(String::with_capacity(16));
        s.push_str("abc");
        assert_eq!(s.as_str(), "abc");
        assert!(s.clone() == Wiped::new("abc".to_string()));
    }
}
