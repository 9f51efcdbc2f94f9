"""What an image starts with: the packaged table of well-known images and, when asked, the image's real config."""
