"""Small wrappers around the AWS services we call: one module per concern."""
