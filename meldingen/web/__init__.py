"""Small public pages: health check and the residents' website chat."""
