"""The `newsflow` command: run the service (up, api, worker), submit and read articles
through the API, and the operator's commands on the database (keys, reprocess,
submissions, feed)."""
