"""Running a server: the supported servers, their settings for an application, hypercorn's bounds, log format."""
