"""Where a report is: areas, addresses, assets, and the conversions between them."""
