"""Layer 2, controller sources to endpoints: the container, module scanning, path joining and duplicates."""
