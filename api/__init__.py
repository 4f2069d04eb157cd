"""tradecast's REST service and command line (the layer that sees every other package)."""
