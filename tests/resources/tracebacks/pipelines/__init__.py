"""Tasks that fail on the backend, in the user's code and in plait's output check."""
