-- returns: the one public request whose request_id is $request_id (no row when there is none, or when its type is aggregate-only): its public status, type, department, dates, whether it was closed by its due date, and its district and neighbourhood (NULL for a no-location type) with its privacy tier
-- params: request_id VARCHAR
-- access: public
-- The public requests table already leaves out the aggregate-only types and the coordinates of
-- no-location types; the tier is read again here so a no-location request's areas stay out too.
with tiers as (
    select request_type, privacy_tier
    from request_types
),

found as (
    select
        r.*,
        t.privacy_tier
    from requests as r
    left join tiers as t using (request_type)
    where r.request_id = $request_id
),

final as (
    select
        request_id,
        created_at,
        updated_at,
        closed_at,
        due_at,
        status,
        closure,
        department,
        request_type,
        category,
        is_on_time,
        days_to_close,
        privacy_tier,
        case when privacy_tier = 'no_location' then null else district end as district,
        case when privacy_tier = 'no_location' then null else neighborhood end as neighborhood
    from found
    where coalesce(privacy_tier, '') <> 'aggregate_only'
)

select * from final order by created_at limit 1
