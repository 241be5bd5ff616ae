"""selection: batches (gelombang), applications, exclusion lists, eligibility, the seeded lottery, decisions."""
