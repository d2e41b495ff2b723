  FAILED: No 'script_location' key found in configuration.
