"""assay.robustness: input margins, margin consistency and robust accuracy."""
