"""Where the OCR service runs: `local` (embedded default) or `cloudrun`."""
