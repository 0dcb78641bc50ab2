def render(reports, errors, *, color=False, width=100):
    return ""
