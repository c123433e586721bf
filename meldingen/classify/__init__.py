"""Category suggestions for residents' texts: the model, its training data and its use by the intake and API."""
