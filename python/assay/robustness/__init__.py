"""assay.robustness: input margins."""
