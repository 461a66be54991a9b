// Care-management behaviours the CSP allows (script-src 'self'): no inline code anywhere.
// One section per area.

// == registry, enrollment, interactions, care team, caseload ==

// == care plan ==

// == tasks, notifications, surveys ==

// == screening, resources, referrals ==
