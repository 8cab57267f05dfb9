"""What each model call cost, priced from genai-prices; local models cost nothing."""
