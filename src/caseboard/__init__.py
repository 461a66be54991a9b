"""caseboard: care-management coordination for health plans and primary-care practices."""
