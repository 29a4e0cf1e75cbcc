"""The ``WebhookSender`` that POSTs deliveries to receivers over HTTP."""
