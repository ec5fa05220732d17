"""The platform server: a REST API over the atlas and the engines (`bmtc serve`)."""
