//! The global allocator: mimalloc, asked for alignment only when it must be.
//!
//! A build allocates and frees millions of small token trees and strings; glibc's malloc
//! spent about a quarter of a large build's time on them. mimalloc's v2 line without
//! transparent huge pages (Cargo.toml): v3, and huge pages, left the kernel zeroing 2 MiB
//! pages the build barely used, a quarter of a 100-entity build's samples on this VM.
//!
//! The `mimalloc` crate's allocator passes every request through `mi_malloc_aligned`,
//! which checks the alignment before doing what `mi_malloc` does: a tenth of a build's
//! instructions went to allocation, most of it that path. mimalloc places every block of
//! at least 16 bytes on a 16-byte boundary and smaller ones on their size (its own
//! `mi_malloc_is_naturally_aligned`), so a request whose alignment is at most 16 and at
//! most its size needs no more than `mi_malloc`.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// mimalloc's `MI_MAX_ALIGN_SIZE`: the alignment every block of that size or more has.
const NATURAL_ALIGNMENT: usize = 16;

pub struct MiMalloc;

fn natural(size: usize, align: usize) -> bool {
    align <= NATURAL_ALIGNMENT && align <= size
}

type Plain = unsafe extern "C" fn(usize) -> *mut c_void;
type Aligned = unsafe extern "C" fn(usize, usize) -> *mut c_void;

/// A block from `plain` where mimalloc's natural alignment is enough, else from `aligned`.
#[inline]
fn allocate(layout: Layout, plain: Plain, aligned: Aligned) -> *mut u8 {
    // SAFETY: both are mimalloc allocation functions, which take any size and alignment
    // (answering null when they cannot); `natural` holds only where `plain` aligns enough.
    unsafe {
        if natural(layout.size(), layout.align()) {
            plain(layout.size()).cast()
        } else {
            aligned(layout.size(), layout.align()).cast()
        }
    }
}

// SAFETY: every method hands the request to mimalloc, whose functions meet `GlobalAlloc`'s
// contract: blocks of at least the size asked for, aligned as asked (see above for the
// unaligned calls), freed by `mi_free` whichever function allocated them.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocate(layout, mi_malloc, mi_malloc_aligned)
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        allocate(layout, mi_zalloc, mi_zalloc_aligned)
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from mimalloc; the new block is aligned as in `alloc`.
        unsafe {
            if natural(new_size, layout.align()) {
                mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_is_aligned_as_asked_and_keeps_its_bytes_when_it_grows() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (1..=600).chain([4096, 70_000]).filter(|s| s % align == 0) {
                // Power-of-two alignments and sizes far below `isize::MAX`: always valid.
                let layout = Layout::from_size_align(size, align).expect("a valid layout");
                // SAFETY: non-zero sizes; every block is freed once, by this allocator.
                unsafe {
                    let block = MiMalloc.alloc(layout);
                    assert!(!block.is_null());
                    assert_eq!(block.addr() % align, 0, "{size} bytes at {align}");
                    block.write_bytes(7, size);
                    let grown = MiMalloc.realloc(block, layout, size * 3);
                    assert_eq!(grown.addr() % align, 0, "{size} bytes grown at {align}");
                    assert!((0..size).all(|i| grown.add(i).read() == 7));
                    let larger = Layout::from_size_align(size * 3, align).expect("a valid layout");
                    MiMalloc.dealloc(grown, larger);
                    let zeroed = MiMalloc.alloc_zeroed(layout);
                    assert_eq!(zeroed.addr() % align, 0, "{size} zeroed bytes at {align}");
                    assert!((0..size).all(|i| zeroed.add(i).read() == 0));
                    MiMalloc.dealloc(zeroed, layout);
                }
            }
        }
    }
}
