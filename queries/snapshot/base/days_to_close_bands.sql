-- returns: the bands of days to close the Trends page charts, in order: each [low_days, high_days), contiguous from 0, the last open-ended
-- params: none
-- materialized: table
-- snapshots: public
-- depends: none
-- incremental: rebuild
with bands (band_order, band_label, low_days, high_days) as (
    values
    (1, 'under 1 day', 0.0, 1.0),
    (2, '1–2 days', 1.0, 2.0),
    (3, '2–3 days', 2.0, 3.0),
    (4, '3–7 days', 3.0, 7.0),
    (5, '7–14 days', 7.0, 14.0),
    (6, '14–30 days', 14.0, 30.0),
    (7, '30–90 days', 30.0, 90.0),
    (8, 'over 90 days', 90.0, null)
),

final as (
    select
        band_order::integer as band_order,
        band_label,
        low_days::double as low_days,
        high_days::double as high_days
    from bands
)

select * from final
