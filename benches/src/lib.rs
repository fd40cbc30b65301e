//! Shared pieces of the corpus tools.
