"""Generation: pluggable generators, prompts composed from the bible, and the render queue."""
