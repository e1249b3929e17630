//! The process's allocator: mimalloc (Cargo.toml says why). Its aligned entry
//! points cost ~40 instructions more per call than the plain ones, which the
//! `mimalloc` crate uses for every allocation; every block mimalloc hands out
//! is aligned to a word already, so only wider alignments need them.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Mimalloc;

/// While above zero, every block freed (or moved by a realloc) is zeroed
/// first: for code whose copies of values escort does not own, such as the
/// child environment `std::process::Command` builds (`WipeFrees`).
static WIPE_FREES: AtomicUsize = AtomicUsize::new(0);

/// Zero what is freed while this lives, on every thread (docs/security.md).
pub struct WipeFrees(());

impl WipeFrees {
    pub fn start() -> WipeFrees {
        WIPE_FREES.fetch_add(1, Ordering::SeqCst);
        WipeFrees(())
    }
}

impl Drop for WipeFrees {
    fn drop(&mut self) {
        WIPE_FREES.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Zero `size` bytes at `ptr`, in a way the compiler keeps before the free.
#[inline(never)]
unsafe fn zero(ptr: *mut u8, size: usize) {
    // SAFETY: the caller owns `size` bytes at `ptr`.
    unsafe { std::ptr::write_bytes(ptr, 0, size) };
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
}

/// The alignment of every mimalloc block (16 for blocks of 16 bytes or more).
const WORD: usize = std::mem::size_of::<usize>();

// SAFETY: mimalloc returns blocks of at least the size asked for, aligned to a
// word, or to `align` through its aligned calls; null when it has no memory.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain C calls with a size and an alignment.
        unsafe { either(layout, mi::mi_malloc, mi::mi_malloc_aligned) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe { either(layout, mi::mi_zalloc, mi::mi_zalloc_aligned) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, with `layout.size()` bytes.
        unsafe {
            if WIPE_FREES.load(Ordering::Relaxed) > 0 {
                zero(ptr, layout.size());
            }
            mi::mi_free(ptr.cast())
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe {
            if WIPE_FREES.load(Ordering::Relaxed) > 0 {
                // Moved by hand, so the old block is zeroed before it is freed.
                let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                return new;
            }
            if layout.align() <= WORD {
                mi::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// `plain(size)` when a word's alignment is enough, else `aligned(size, align)`.
#[inline(always)]
unsafe fn either(
    layout: Layout,
    plain: unsafe extern "C" fn(usize) -> *mut c_void,
    aligned: unsafe extern "C" fn(usize, usize) -> *mut c_void,
) -> *mut u8 {
    // SAFETY: the caller passes mimalloc's allocation calls.
    unsafe { if layout.align() <= WORD { plain(layout.size()) } else { aligned(layout.size(), layout.align()) }.cast() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every alignment is honoured, through whichever entry point, and while
    /// frees are wiped (a realloc then moves the block by hand).
    #[test]
    fn blocks_are_aligned_as_asked() {
        blocks_aligned();
        let _wiping = WipeFrees::start();
        blocks_aligned();
    }

    fn blocks_aligned() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 7, 8, 16, 24, 100, 5000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; the block is freed with its layout.
                unsafe {
                    let p = Mimalloc.alloc(layout);
                    assert!(!p.is_null() && (p as usize).is_multiple_of(align), "{size} bytes aligned to {align}");
                    p.write_bytes(0xa5, size);
                    let q = Mimalloc.realloc(p, layout, size * 3);
                    assert!((q as usize).is_multiple_of(align) && *q == 0xa5, "{size} bytes aligned to {align}, grown");
                    Mimalloc.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = Mimalloc.alloc_zeroed(layout);
                    assert!((z as usize).is_multiple_of(align) && *z.add(size - 1) == 0);
                    Mimalloc.dealloc(z, layout);
                }
            }
        }
    }
}
