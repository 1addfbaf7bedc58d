"""One import path for every file users send: reading CSV/XLSX, header matching, row errors, batches."""
