"""Forms for every write: validated before anything is sent, errors under the field."""
