"""Claude Desktop: the config entry that starts our stdio servers, and the doctor that checks it."""
