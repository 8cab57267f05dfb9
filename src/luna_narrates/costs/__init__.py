"""What each model call cost, priced from the `model_pricing` table (seeded from genai-prices,
overridable per model by an operator); local models cost nothing."""
