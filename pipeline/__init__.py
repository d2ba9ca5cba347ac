"""commune-radio: bulletin scripts to finished programs and station playlists."""

__version__ = "0.1.0"
