"""Photos: checks (format, size, sharpness) and the store behind one small interface (folder or S3)."""
