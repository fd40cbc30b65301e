//! x86_64 kernels. SSE2 is always there; AVX2 is detected at run time by the dispatcher in
//! [`crate::diff`].

pub(crate) mod avx2;
pub(crate) mod sse2;
