"""notification: templates, deliveries (e-mail, SMS, in-app inbox) and their status."""
