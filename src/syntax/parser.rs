//! The pest parser generated from `grammar/svc.pest`.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/svc.pest"]
pub(super) struct SvcParser;
