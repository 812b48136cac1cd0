"""Review and the cut: assembly, timelines for the editor (OTIO, EDL, FCP XML), the preview movie."""
